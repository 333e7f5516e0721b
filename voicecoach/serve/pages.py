"""The check-in page: plain HTML that any phone browser shows without JavaScript, with
buttons big enough for a thumb while lying on the floor. Every text from a routine is
escaped; the page names no file."""

from __future__ import annotations

from html import escape

from ..feed.checkin import DONE, CheckIn
from ..feed.episode import Episode
from ..history.store import MAX_PAIN

_STYLE = """body{font:1.2rem/1.5 system-ui,sans-serif;margin:1rem auto;max-width:32rem;padding:0 1rem}
fieldset{border:0;margin:1rem 0;padding:0}legend{font-weight:bold;margin-bottom:.5rem}
.pain label{display:inline-block;margin:.2rem}.pain input{width:1.4rem;height:1.4rem}
select{font-size:1.2rem;padding:.6rem;width:100%}
button{display:block;width:100%;font-size:1.5rem;padding:1.1rem;margin:.6rem 0;border-radius:.6rem;border:2px solid #333}
.better{background:#d8f5d0}.same{background:#eee}.worse{background:#f8d6d0}.error{color:#a00;font-weight:bold}"""


def page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n").encode("utf-8")


def form_page(episode: Episode, action: str, error: str | None = None) -> bytes:
    """The form: how it ended, the pain score, then one button per feeling (which sends it)."""
    ended = "".join(f'<option value="{escape(name, quote=True)}">Stopped at {escape(name)}</option>'
                    for name in episode.exercises())
    pains = "".join(f'<label><input type="radio" name="pain" value="{n}"> {n}</label>'
                    for n in range(MAX_PAIN + 1))
    problem = f'<p class="error">{escape(error)}</p>' if error else ""
    body = (f"<h1>{escape(_heading(episode))}</h1>{problem}"
            f'<form method="post" action="{escape(action, quote=True)}">'
            f'<fieldset><legend>How did it end?</legend><select name="ended">'
            f'<option value="{DONE}">Done, all of it</option>{ended}</select>'
            f'<label><input type="checkbox" name="hurt" value="yes"> I stopped because it hurt</label></fieldset>'
            f'<fieldset class="pain"><legend>Pain now, 0 (none) to {MAX_PAIN}</legend>{pains}</fieldset>'
            f"<fieldset><legend>Your back, compared with before:</legend>"
            f'<button class="better" name="felt" value="better">Better</button>'
            f'<button class="same" name="felt" value="same">The same</button>'
            f'<button class="worse" name="felt" value="worse">Worse</button></fieldset></form>')
    return page("Check in", body)


def recorded_page(check: CheckIn, next_lines: list[str]) -> bytes:
    """After a check-in (or on opening one already made): what was recorded, and what the
    next session will be."""
    answers = check.answers
    how = "done" if answers.stopped_at is None else f"stopped at {answers.stopped_at}" + (
        " because it hurt" if answers.hurt else "")
    pain = "" if answers.pain is None else f", pain {answers.pain}"
    when = check.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    said = "Recorded" if check.first else "Already recorded"
    rows = "".join(f"<li>{escape(line)}</li>" for line in next_lines)
    body = (f"<h1>{escape(_heading(check.episode))}</h1>"
            f"<p>{said} at {escape(when)}: felt {escape(answers.felt)}{escape(pain)}, {escape(how)}.</p>"
            f"<h2>Next session</h2><ul>{rows}</ul>"
            "<p>It will be in the feed when your podcast app next refreshes it.</p>")
    return page("Checked in", body)


def not_found() -> bytes:
    return page("Not found", "<h1>Not found</h1>")


def message_page(title: str, text: str) -> bytes:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


def _heading(episode: Episode) -> str:
    return f"{episode.title}, {episode.day}"
