"""Live courses from the Bundesagentur für Arbeit's Weiterbildungssuche (the data behind KURSNET / mein NOW).

`model` is the project's own small course model and the raw response shapes it is read from,
`mapping` turns a response into courses (tolerant of missing fields, skipping malformed records),
`client` asks the API (httpx, timeouts, bounded retries) and `keywords` picks the search word
for an advisory profile. The database cache is `db.course_cache`; the dialog sees only `Course`.
"""
