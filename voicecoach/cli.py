"""The ``voicecoach`` command. Thin: parse options, call one library function, and turn
our errors into one line (exit 2 for bad input, 1 for a failure at run time)."""

from __future__ import annotations

from .interrupt import exit_on_interrupt, restore_interrupt

_IMPORTING = exit_on_interrupt()  # Ctrl-C while the rest is imported: "Stopped.", not a traceback

import dataclasses
import errno
import functools
import json
import os
import shlex
import sys
from pathlib import Path

import click

from .defaults import ENGINE_CHOICES, MAX_RATE, MIN_RATE
from .errors import RoutineErrors, VoicecoachError
from .routine import builtin_names, load_routine
from .signals import Terminated, stop_signals

CHECK_SHOWN = 20  # errors 'check' lists before "... and N more"


def _errors_as_lines(command):
    """Our errors become ``Error: ...`` and an exit status; never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except VoicecoachError as error:
            click.echo(f"Error: {error}{_more_errors(error)}", err=True)
            sys.exit(error.exit_code)
        except Terminated as stop:  # a shell reads 128 + the signal's number as "killed by it"
            click.echo(f"Stopped by {stop}.", err=True)
            sys.exit(128 + stop.signum)
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
            _exit_interrupted()
        except OSError as error:  # before click, which makes a closed pipe a silent exit 1
            sys.exit(_os_error(error))
    return wrapper


def _exit_interrupted() -> None:
    """Exit 130 after Ctrl-C, now. The clean-up ran as the interrupt unwound the command;
    what is left is the interpreter's own shutdown, during which (threads still inside
    espeak-ng or ALSA) the process was seen to die of the signal instead, exit -2, in 2 of
    14 tries at 0.15 s."""
    _settle_stdout()
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(130)


def _more_errors(error) -> str:
    """After the first of a routine's errors (plan, export, play): how many more, and the
    command that lists them; one line still, as for any error."""
    more = len(getattr(error, "errors", ())) - 1
    if more < 1:
        return ""
    return f"; and {more} more error{'s' if more > 1 else ''}, listed by: voicecoach check {shlex.quote(error.path)}"


class _OneLineErrors(click.Group):
    """click's own errors (a bad option value, a missing argument, an unknown option) as
    one ``Error: ...`` line and exit status 2, like ours, never its usage block; output
    that cannot be written (a full disk) as one line and exit 1, and a reader that went
    away (``| head``) quietly, with the status a shell gives for SIGPIPE."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        status = 0
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as shown:  # the help, for no command at all
            shown.show()
            status = shown.exit_code
        except click.UsageError as error:
            status = _line(f"Error: {_usage_line(error)}", error.exit_code)
        except click.ClickException as error:
            status = _line(f"Error: {error.format_message()}", error.exit_code)
        except click.Abort as abort:  # click makes a Ctrl-C before our command runs an Abort
            interrupted = isinstance(abort.__context__, KeyboardInterrupt)
            status = _line("Stopped.", 130) if interrupted else _line("Aborted.", 1)
        except OSError as error:
            status = _os_error(error)
        finally:
            _settle_stdout()
        sys.exit(status if isinstance(status, int) else 0)


def _usage_line(error: click.UsageError) -> str:
    """``--rate: 'abc' is not a valid integer``: the option, then what is wrong with it."""
    param = getattr(error, "param", None)
    if isinstance(error, click.BadParameter) and not isinstance(error, click.MissingParameter) and param:
        name = param.opts[0] if param.param_type_name == "option" else param.human_readable_name
        return f"{name}: {error.message.rstrip('.')}"
    line = error.format_message().rstrip(".")
    if error.ctx is not None:
        line += f" (see '{error.ctx.command_path} --help')"
    return line


def _os_error(error: OSError) -> int:
    """A system error that reached the top: output that cannot be written (every file we
    write handles its own errors, so without a file name it is stdout), or a name the file
    system cannot take. Anything else is a fault of ours: its traceback is raised."""
    if error.errno == errno.EPIPE and error.filename is None:
        return 128 + 13  # the reader stopped reading (| head): as SIGPIPE would, without a word
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EPIPE):
        what = "the output" if error.filename is None else repr(str(error.filename))
        return _line(f"Error: could not write {what}: {error.strerror or error}", 1)
    if error.errno == errno.ENAMETOOLONG:
        name = os.path.basename(str(error.filename or "")) or str(error.filename)
        shown = name if len(name) <= 40 else name[:37] + "..."
        return _line(f"Error: the name {shown!r} is too long for the file system "
                     f"({len(os.fsencode(name))} bytes); give a shorter one", 2)
    raise error


def _line(text: str, status: int) -> int:
    try:
        click.echo(text, err=True)
    except OSError:
        pass
    return status


def _settle_stdout() -> None:
    """Output that could not be written is dropped, so Python's last flush at exit does
    not fail again with a message of its own."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass


def _complete_routine(ctx, param, incomplete):
    """Shell completion of ROUTINE: built-in names, routine files and folders."""
    from click.shell_completion import CompletionItem
    from .routine.load import routine_completions
    return [CompletionItem(value) for value in routine_completions(incomplete)]


def _session_options(command):
    """--engine, --voice, --rate, --language (and ``_level_option``): what ``_session_request``
    makes the request of; their defaults come from the settings (``voicecoach config``)
    through click's default_map."""
    command = click.option("--engine", type=click.Choice(ENGINE_CHOICES), show_default=True,
                           help="Speech engine; auto: piper where the neural extra and a voice "
                           "are installed, else espeak.")(command)
    command = click.option("--voice", metavar="ID", help="Voice id (see 'voicecoach voices'), "
                           "or for piper an .onnx model file or voice package name.")(command)
    command = click.option("--rate", type=int, metavar="WPM", show_default=True,
                           help=f"Voice speed in words per minute, {MIN_RATE}-{MAX_RATE}. "
                           "Holds and rests never change with it.")(command)
    command = click.option("--language", metavar="CODE", help="Speak the coach's own words in this "
                           "language (en, de); default: the routine's own.")(command)
    return command


def _level_option(command):
    return click.option("--level", metavar="fresh|N", help="Reps of the exercises that build up "
                        "(reps: {start, max}): fresh (their start) or N; default: today's level "
                        "from your history.")(command)


def _session_request(command):
    """The command is given ``request``, the ``SessionRequest`` made of ROUTINE and the
    options of the same names (``_session_options``, ``_level_option``), instead of them; a
    command of several ROUTINES (feed, serve) is given ``request_of``, which makes the request
    of one routine with those options."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from .session.request import SessionRequest  # (loads numpy: only for a session's commands)
        names = [field.name for field in dataclasses.fields(SessionRequest) if field.name in kwargs]
        options = {name: kwargs.pop(name) for name in names}
        if "routine" in options:
            return command(*args, request=SessionRequest(**options), **kwargs)
        return command(*args, request_of=functools.partial(SessionRequest, **options), **kwargs)
    return wrapper


def _today(request):
    """``request`` resolved: today's routine, its levels, its phrases and its voice."""
    from .session.request import resolve
    return resolve(request, warn=lambda line: click.echo(line, err=True))


def _levels_json(levels) -> dict:
    """The ``levels`` key of the timeline JSON: each exercise's reps today, and why."""
    return {name: {"reps": level.reps, "reason": level.reason} for name, level in levels.items()}


@click.group(cls=_OneLineErrors)
@click.version_option(package_name="voicecoach")
@click.pass_context
@_errors_as_lines
def cli(ctx):
    """Hands-free spoken coaching through an exercise routine.

    \b
    Examples:
        voicecoach play back-pain
        voicecoach export back-pain -o session.mp3 --rate 130
        voicecoach plan my-routine.yaml --json
    """
    from .config import default_map, load_settings
    ctx.default_map = default_map(load_settings())


@cli.command()
@_errors_as_lines
def config():
    """Show the settings in force and where each comes from: your config.yaml, or the
    default. Options given to a command win over both.

    \b
    Example:
        voicecoach config
    """
    from .config import load_settings, shown
    from .paths import config_file
    path = config_file()
    click.echo(f"Settings file: {path}" + ("" if path.is_file() else " (not there: all defaults)"))
    for setting in load_settings().values():
        value = shown(setting.value)
        click.echo(f"  {setting.key:<9} {value:<12} {setting.source}")


@cli.command()
@_errors_as_lines
def schema():
    """Print the JSON Schema of routine files (editors use it for completion and checks).

    \b
    Example:
        voicecoach schema > voicecoach-routine.schema.json
    """
    from .routine.schema import shipped_schema_text
    click.echo(shipped_schema_text(), nl=False)


@cli.command()
@click.argument("routine", shell_complete=_complete_routine)
@_errors_as_lines
def check(routine):
    """Check a routine file (or built-in name) and say what is wrong, if anything.

    \b
    Example:
        voicecoach check my-routine.yaml
    """
    try:
        loaded = load_routine(routine)
    except RoutineErrors as found:  # every error found, one a line, in the file's order
        for error in found.errors[:CHECK_SHOWN]:
            click.echo(f"Error: {error}", err=True)
        if len(found.errors) > CHECK_SHOWN:
            click.echo(f"... and {len(found.errors) - CHECK_SHOWN} more", err=True)
        sys.exit(found.exit_code)
    count = len(loaded.exercises)
    click.echo(f"{routine}: OK, {loaded.title!r} with {count} exercise{'s' if count != 1 else ''}")


@cli.command()
@_errors_as_lines
def routines():
    """List the built-in routines.

    \b
    Example:
        voicecoach routines
    """
    for name in builtin_names():
        loaded = load_routine(name)
        names = ", ".join(e.name for e in loaded.exercises)
        click.echo(f"{name}: {loaded.title} ({names})")


@cli.command()
@click.option("--engine", type=click.Choice(ENGINE_CHOICES), default="auto", show_default=True)
@_errors_as_lines
def voices(engine):
    """List the voices of the speech engines: engine, id, name, language, and which voice
    speaks each language by default (auto: every installed engine's voices).

    \b
    Examples:
        voicecoach voices | grep English
        voicecoach voices --engine piper
    """
    from .session.voices import voice_lines, voice_rows
    for line in voice_lines(voice_rows(engine)):
        click.echo(line)


@cli.command()
@click.argument("routine", shell_complete=_complete_routine)
@_session_options
@_level_option
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@_errors_as_lines
@_session_request
def plan(request, as_json):
    """Show the timeline of a session: when each cue, chime, hold and rest happens.

    \b
    Examples:
        voicecoach plan back-pain
        voicecoach plan my-routine.yaml --rate 120 --json
    """
    from .progress import Progress
    from .session.prepare import prepare
    with stop_signals():  # SIGTERM while the speech is made: its temporaries go, one line
        today = _today(request)
        # A first plan with Piper takes seconds: say so on a terminal (stdout stays the plan).
        with Progress("Preparing speech", sys.stderr.isatty()) as bar:
            session = prepare(today, progress=bar.update)
    if as_json:
        shown = session.timeline.to_dict()
        shown["levels"] = _levels_json(today.levels)
        click.echo(json.dumps(shown, indent=1, ensure_ascii=False))
    else:
        from .history.journal import level_lines
        from .plan.table import format_table
        for line in level_lines(today.levels):
            click.echo(line)
        click.echo(format_table(session.timeline))


@cli.command()
@click.argument("routine", shell_complete=_complete_routine)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write: .wav, .mp3, .ogg/.opus or .m4a (default: the routine's "
              "name in the current folder, in the format of the settings).")
@_session_options
@click.option("--timeline", "timeline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the timeline JSON (as 'plan --json') of the file written.")
@click.option("--transcript", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the spoken cues as subtitles (.srt or .vtt).")
@click.option("--format", "output_format", hidden=True)  # from the settings: the extension without -o
@_level_option
@_errors_as_lines
@_session_request
def export(request, output, timeline_path, transcript, output_format):
    """Export a session as an audio file, with one chapter per exercise.

    \b
    Examples:
        voicecoach export back-pain -o back.mp3
        voicecoach export back-pain -o back.wav --transcript back.srt --timeline back.json
    """
    from .export.exporter import exporting
    from .speech.engines import voice_line
    from .progress import Progress
    from .session.prepare import prepare
    today = _today(request)
    output = output or Path(f"{Path(request.routine).stem}.{output_format or 'mp3'}")
    show = sys.stderr.isatty()
    with exporting(output, transcript, timeline_path, today.routine) as write:
        with Progress("Preparing speech", show) as bar:
            session = prepare(today, progress=bar.update)
        if show:  # a status note, like the bar: on a terminal only
            click.echo(voice_line(session.speech.synthesizer), err=True)
        with Progress(f"Writing {output.name}", show, session.sample_rate) as bar:
            written = write(session, progress=bar.update,
                            timeline_extra={"levels": _levels_json(today.levels)})
    for path in (transcript, timeline_path):
        if path is not None:
            click.echo(f"Wrote {path}")
    from .text import clock
    click.echo(f"Wrote {written} ({clock(session.timeline.total_s)}, "
               f"{len(session.timeline.chapters)} chapters)")


@cli.command()
@click.argument("routine", shell_complete=_complete_routine)
@_session_options
@click.option("--lead-in", type=click.FloatRange(0, 10), show_default=True,
              metavar="SECONDS", help="Quiet lead-in so wireless headphones wake up.")
@click.option("--resume", is_flag=True, help="Continue from the exercise where the last session stopped.")
@click.option("--listen/--no-listen", show_default=True,
              help="Listen on the default microphone for spoken commands: pause, continue, next, back, "
                   "repeat, stop (offline; nothing leaves the machine).")
@_level_option
@_errors_as_lines
@_session_request
def play(request, lead_in, resume, listen):
    """Start a hands-free spoken session.

    Keys (when run in a terminal): space pause/resume, n next exercise,
    p previous exercise, r repeat the last instruction, q stop, h it hurts
    (stops at once and records the session as stopped for pain).
    Media keys and headset buttons (MPRIS) pause, skip and stop it too;
    with --listen, so do the spoken words.

    \b
    Examples:
        voicecoach play back-pain
        voicecoach play back-pain --rate 120 --resume
    """
    from .live.play import play_routine
    status = play_routine(request, lead_in_s=lead_in, resume=resume, listen=listen)
    if status:
        sys.exit(status)


@cli.command()
@click.argument("routines", metavar="ROUTINE...", nargs=-1, required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder of the feed: feed.xml and each episode's files (it must exist).")
@click.option("--base-url", metavar="URL", help="Address the folder is served at, for absolute "
              "links (default: links relative to feed.xml).")
@click.option("--keep", type=click.IntRange(1), default=7, show_default=True, metavar="N",
              help="Episodes kept in the feed; older ones and their files are removed.")
@_session_options
@_errors_as_lines
@_session_request
def feed(routines, out, base_url, keep, request_of):
    """Publish today's session of each routine as a podcast episode in a static feed:
    feed.xml, an MP3 with chapters, podcast chapters (JSON) and a transcript (SRT).
    Run again with nothing changed, it rewrites nothing. To serve it with a check-in
    page, use 'voicecoach serve'; docs/feed.md says how to subscribe on a phone.

    \b
    Examples:
        voicecoach feed back-pain --out ~/podcast
        voicecoach feed back-pain my-routine.yaml --out /srv/www/anna --base-url https://clinic.example/anna/
    """
    from .feed.publish import publish, static_links
    from .feed.today import resolvers
    links = static_links(base_url)
    todays = resolvers(map(request_of, routines), warn=lambda line: click.echo(line, err=True))
    with stop_signals():
        done = publish(out, todays, links=links, keep=keep)
    for episode in done.made + done.linked:
        click.echo(f"Made {episode.file('audio')} ({_clock(episode.duration_s)})")
    for episode in done.removed:
        click.echo(f"Removed {episode.id} (beyond --keep {keep})")
    click.echo(f"{'Wrote' if done.written else 'Unchanged:'} {out / 'feed.xml'} "
               f"({len(done.episodes)} episode{'s' if len(done.episodes) != 1 else ''})")


@cli.command()
@click.argument("routines", metavar="[ROUTINE...]", nargs=-1)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="TCP port to listen on (0: any free one).")
@click.option("--lan", is_flag=True, help="Listen on the home network, so a phone can reach it "
              "(default: this computer only, 127.0.0.1).")
@click.option("--new-token", is_flag=True, help="Replace the secret in the URLs: every phone "
              "subscribed must subscribe again.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the feed (default: feed/ in the data folder).")
@click.option("--keep", type=click.IntRange(1), default=7, show_default=True, metavar="N",
              help="Episodes kept in the feed; older ones and their files are removed.")
@_session_options
@_errors_as_lines
@_session_request
def serve(routines, port, lan, new_token, out, keep, request_of):
    """Serve today's session as a private podcast feed, with a check-in page for the
    phone, until Ctrl-C. Prints the address to subscribe to, and its QR code. Without
    ROUTINE: those already in the feed, else back-pain. docs/feed.md says what --lan
    exposes and how to subscribe.

    \b
    Examples:
        voicecoach serve back-pain --lan
        voicecoach serve back-pain --lan --new-token
    """
    from .paths import data_dir
    from .serve.server import Options, serve as run
    run(Options(out or data_dir() / "feed", tuple(routines), port, lan, new_token, keep, request_of))


def _clock(seconds: float) -> str:
    from .text import clock
    return clock(seconds, millis=False)


@cli.command()
@click.argument("routine")
@click.option("--felt", metavar="better|same|worse", help="How your back felt afterwards, "
              "compared with before.")
@click.option("--pain", metavar="0-10", help="How much it hurt afterwards, 0 (not at all) to 10.")
@click.option("--when", metavar="ISO-TIME", help="When you started, e.g. 2026-03-01T18:30 "
              "(default: now).")
@_errors_as_lines
def log(routine, felt, pain, when):
    """Record a session done without voicecoach playing it (an exported file, on a phone),
    at today's levels, so the routine builds up all the same.

    \b
    Examples:
        voicecoach log back-pain --felt better
        voicecoach log back-pain --felt same --pain 2 --when 2026-03-01T18:30
    """
    from .history.journal import log_session
    record = log_session(routine, felt, pain, when)
    levels = ", ".join(f"{name} {reps}" for name, reps in record.levels)
    click.echo(f"Logged {routine} at {record.started_at.astimezone():%Y-%m-%d %H:%M} "
               f"(felt {record.felt}): {levels}")


@cli.command()
@click.argument("routine", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the sessions as a JSON list.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.png",
              help="Also draw the chart into a PNG (needs the plot extra: matplotlib).")
@click.option("--delete", "delete_id", metavar="ID", help="Delete the session with this ID "
              "(the table's ID column), e.g. one logged by mistake.")
@_errors_as_lines
def history(routine, as_json, plot, delete_id):
    """Show your sessions: a table, and a chart of level and feeling over time.
    ROUTINE is a built-in's name, a routine file, or the name the table shows for it.

    \b
    Examples:
        voicecoach history
        voicecoach history back-pain --json
        voicecoach history back-pain --plot progress.png
        voicecoach history --delete 7
    """
    import shutil
    from .history.journal import delete_session, show_history
    if delete_id is not None:
        click.echo(delete_session(delete_id, routine))
        return
    click.echo(show_history(routine, as_json=as_json, plot=plot,
                            width=shutil.get_terminal_size((80, 24)).columns))


@cli.command()
@click.argument("routine")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The report to write: .html (one printable file, charts inside) or .csv.")
@click.option("--from", "start", metavar="DAY", help="First day, e.g. 2026-11-01 (default: the first session's).")
@click.option("--to", "end", metavar="DAY", help="Last day, e.g. 2026-11-30 (default: the last session's).")
@_errors_as_lines
def report(routine, output, start, end):
    """Write a report of a routine's sessions for your physiotherapist: the weeks against
    the schedule, the levels of each exercise, felt and pain per session with the trend,
    and the sessions stopped for pain.

    \b
    Examples:
        voicecoach report back-pain -o back-pain.html
        voicecoach report back-pain -o november.csv --from 2026-11-01 --to 2026-11-30
    """
    from .programme.handout import write_report
    click.echo(f"Wrote {write_report(routine, output, start, end)}")


@cli.command()
@click.argument("routine", required=False)
@click.option("--at", metavar="HH:MM", help="The time of day, 24-hour, e.g. 08:00.")
@click.option("--days", metavar="mon,wed,fri", help="Days of the week (default: every day).")
@click.option("--ics", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.ics",
              help="Write the reminder as a calendar file for a phone instead.")
@click.option("--list", "listing", is_flag=True, help="List the reminders.")
@click.option("--off", is_flag=True, help="Remove the reminder of ROUTINE.")
@_errors_as_lines
def remind(routine, at, days, ics, listing, off):
    """Be reminded to exercise: a desktop notification at a time of day (a systemd user
    timer; one missed while the computer was off comes when it wakes), with a button that
    starts the session where the desktop has one; or a calendar file for a phone.

    \b
    Examples:
        voicecoach remind back-pain --at 08:00 --days mon,wed,fri
        voicecoach remind --list
        voicecoach remind --off back-pain
        voicecoach remind back-pain --at 08:00 --ics back-pain.ics
    """
    from .programme.remind import remind as set_up
    for line in set_up(routine, at, days, ics, listing, off):
        click.echo(line)


def main() -> None:
    cli(prog_name="voicecoach")


restore_interrupt(_IMPORTING)  # from here on, Ctrl-C is a KeyboardInterrupt that main turns into "Stopped."
