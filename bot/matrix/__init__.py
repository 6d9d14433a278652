"""The Matrix transport (matrix-nio): the advisory dialog and reminders in Matrix rooms, also encrypted ones.

A conversation is a room: the dialog's user id is the room id, so a direct chat is one person's
conversation and a group room shares one conversation (see the Matrix section of the project README).
"""
