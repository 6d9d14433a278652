"""The partner console: a web page where partner staff keep events and offers current.

Another client of the same house: it reads and writes through db/ repositories and the same
feature services as the admin chat commands (handlers/admin/event_actions.py), never a second
data model. Pages are rendered on the server (Starlette + Jinja2) and work without JavaScript;
the only stylesheet is vendored in static/, nothing is loaded from a CDN.
"""
