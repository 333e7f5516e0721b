"""The ``voicecoach`` command. Thin: parse options, call one library function, and turn
our errors into one line (exit 2 for bad input, 1 for a failure at run time)."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from .errors import VoicecoachError
from .routine import builtin_names, load_routine
from .speech.engines import DEFAULT_RATE, ENGINES, MAX_RATE, MIN_RATE


def _errors_as_lines(command):
    """Our errors become ``Error: ...`` and an exit status; never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except VoicecoachError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
            sys.exit(130)
    return wrapper


def _voice_options(command):
    command = click.option("--engine", type=click.Choice(ENGINES), default="espeak", show_default=True,
                           help="Speech engine; piper needs the voicecoach[neural] extra.")(command)
    command = click.option("--voice", metavar="ID", help="Voice id (see 'voicecoach voices'), "
                           "or for piper an .onnx model file or voice package name.")(command)
    command = click.option("--rate", type=int, metavar="WPM",
                           help=f"Voice speed in words per minute, {MIN_RATE}-{MAX_RATE} "
                           f"(default {DEFAULT_RATE}). Holds and rests never change with it.")(command)
    return command


def _prepare(routine: str, engine: str, voice: str | None, rate: int | None):
    from .session.prepare import prepare
    return prepare(routine, engine=engine, voice=voice, rate=rate)


@click.group()
@click.version_option(package_name="voicecoach")
def cli():
    """Hands-free spoken coaching through an exercise routine.

    \b
    Examples:
        voicecoach play back-pain
        voicecoach export back-pain -o session.mp3 --rate 130
        voicecoach plan my-routine.yaml --json
    """


@cli.command()
@click.argument("routine")
@_errors_as_lines
def check(routine):
    """Check a routine file (or built-in name) and say what is wrong, if anything.

    \b
    Example:
        voicecoach check my-routine.yaml
    """
    loaded = load_routine(routine)
    click.echo(f"{routine}: OK, {loaded.title!r} with {len(loaded.exercises)} exercises")


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
@click.option("--engine", type=click.Choice(ENGINES), default="espeak", show_default=True)
@_errors_as_lines
def voices(engine):
    """List the voices of a speech engine: id, name, language.

    \b
    Example:
        voicecoach voices | grep -i english
    """
    from .speech.engines import list_voices
    for info in list_voices(engine):
        click.echo(f"{info.id}\t{info.name}\t{', '.join(info.languages)}")


@cli.command()
@click.argument("routine")
@_voice_options
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@_errors_as_lines
def plan(routine, engine, voice, rate, as_json):
    """Show the timeline of a session: when each cue, chime, hold and rest happens.

    \b
    Examples:
        voicecoach plan back-pain
        voicecoach plan my-routine.yaml --rate 120 --json
    """
    session = _prepare(routine, engine, voice, rate)
    if as_json:
        click.echo(json.dumps(session.timeline.to_dict(), indent=1, ensure_ascii=False))
    else:
        from .plan.timeline import format_table
        click.echo(format_table(session.timeline))


@cli.command()
@click.argument("routine")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write: .wav, .mp3, .ogg/.opus or .m4a.")
@_voice_options
@click.option("--timeline", "timeline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the timeline JSON (as 'plan --json') of the file written.")
@click.option("--transcript", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the spoken cues as subtitles (.srt or .vtt).")
@_errors_as_lines
def export(routine, output, engine, voice, rate, timeline_path, transcript):
    """Export a session as an audio file, with one chapter per exercise.

    \b
    Examples:
        voicecoach export back-pain -o back.mp3
        voicecoach export back-pain -o back.wav --transcript back.srt --timeline back.json
    """
    from .export.destination import check_destination
    from .export.exporter import export_session
    from .progress import Progress
    from .session.prepare import prepare
    from .signals import Terminated, stop_signals
    loaded = load_routine(routine)
    check_destination(output, transcript, timeline_path, loaded)
    show = sys.stderr.isatty()
    try:
        with stop_signals():
            with Progress("Preparing speech", show) as bar:
                session = prepare(loaded, engine=engine, voice=voice, rate=rate, progress=bar.update)
            with Progress(f"Writing {output.name}", show, session.sample_rate) as bar:
                written = export_session(session, output, transcript=transcript,
                                         timeline_path=timeline_path, progress=bar.update)
    except Terminated as stop:  # a shell reads 128 + the signal's number as "killed by it"
        click.echo(f"Stopped by {stop}.", err=True)
        sys.exit(128 + stop.signum)
    for path in (transcript, timeline_path):
        if path is not None:
            click.echo(f"Wrote {path}")
    from .text import clock
    click.echo(f"Wrote {written} ({clock(session.timeline.total_s)}, "
               f"{len(session.timeline.chapters)} chapters)")


@cli.command()
@click.argument("routine")
@_voice_options
@click.option("--lead-in", type=click.FloatRange(0, 10), default=1.0, show_default=True,
              metavar="SECONDS", help="Quiet lead-in so wireless headphones wake up.")
@click.option("--resume", is_flag=True, help="Continue from the exercise where the last session stopped.")
@_errors_as_lines
def play(routine, engine, voice, rate, lead_in, resume):
    """Start a hands-free spoken session.

    Keys (when run in a terminal): space pause/resume, n next exercise,
    p previous exercise, r repeat the last instruction, q stop.

    \b
    Examples:
        voicecoach play back-pain
        voicecoach play back-pain --rate 120 --resume
    """
    from .live.play import play_routine
    status = play_routine(routine, engine=engine, voice=voice, rate=rate, lead_in_s=lead_in, resume=resume)
    if status:
        sys.exit(status)


def main() -> None:
    cli(prog_name="voicecoach")
