"""``voicecoach serve``: the feed over HTTP on the home network, kept current, with the
check-in page. ``secret`` keeps the token every URL carries, ``app`` is the WSGI
application (routing, files with ranges, the check-in), ``pages`` its HTML, ``server``
runs it under waitress with the background publisher."""
