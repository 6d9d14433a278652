"""Event reminders: pure timing rules (planner), the outbox dispatcher, and the APScheduler tick."""
