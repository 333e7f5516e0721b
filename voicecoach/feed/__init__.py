"""Today's session as a private podcast: one episode per routine and day at that day's
levels (``episode``), the RSS feed that lists them (``rss``), the folder they are
published into (``publish``) and the check-in that records a session done from one
(``checkin``). The HTTP server is ``voicecoach.serve``; both are thin callers of these.
"""
