"""Imports every table module so one `SQLModel.metadata` describes the whole schema."""

from sqlmodel import SQLModel

import db.audit
import db.console_accounts
import db.course_cache
import db.event_models
import db.matrix_models
import db.models  # noqa: F401

metadata = SQLModel.metadata
