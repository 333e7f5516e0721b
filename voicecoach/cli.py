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
from .speech.engines import ENGINES, MAX_RATE, MIN_RATE


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
    """--engine, --voice, --rate, --language: their defaults come from the settings
    (``voicecoach config``) through click's default_map."""
    command = click.option("--engine", type=click.Choice(ENGINES), show_default=True,
                           help="Speech engine; piper needs the neural extra.")(command)
    command = click.option("--voice", metavar="ID", help="Voice id (see 'voicecoach voices'), "
                           "or for piper an .onnx model file or voice package name.")(command)
    command = click.option("--rate", type=int, metavar="WPM", show_default=True,
                           help=f"Voice speed in words per minute, {MIN_RATE}-{MAX_RATE}. "
                           "Holds and rests never change with it.")(command)
    command = click.option("--language", metavar="CODE", help="Speak the coach's own words in this "
                           "language (en, de); default: the routine's language:.")(command)
    return command


def _prepare(routine, engine: str, voice: str | None, rate: int | None, language: str | None):
    from .session.prepare import prepare
    return prepare(routine, engine=engine, voice=voice, rate=rate, language=language)


@click.group()
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
    from .config import load_settings
    from .paths import config_file
    path = config_file()
    click.echo(f"Settings file: {path}" + ("" if path.is_file() else " (not there: all defaults)"))
    for setting in load_settings().values():
        value = "null" if setting.value is None else str(setting.value)
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
@click.argument("routine")
@_errors_as_lines
def check(routine):
    """Check a routine file (or built-in name) and say what is wrong, if anything.

    \b
    Example:
        voicecoach check my-routine.yaml
    """
    loaded = load_routine(routine)
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
@click.option("--engine", type=click.Choice(ENGINES), show_default=True)
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
def plan(routine, engine, voice, rate, language, as_json):
    """Show the timeline of a session: when each cue, chime, hold and rest happens.

    \b
    Examples:
        voicecoach plan back-pain
        voicecoach plan my-routine.yaml --rate 120 --json
    """
    session = _prepare(routine, engine, voice, rate, language)
    if as_json:
        click.echo(json.dumps(session.timeline.to_dict(), indent=1, ensure_ascii=False))
    else:
        from .plan.timeline import format_table
        click.echo(format_table(session.timeline))


@cli.command()
@click.argument("routine")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write: .wav, .mp3, .ogg/.opus or .m4a (default: the routine's "
              "name in the current folder, in the format of the settings).")
@_voice_options
@click.option("--timeline", "timeline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the timeline JSON (as 'plan --json') of the file written.")
@click.option("--transcript", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the spoken cues as subtitles (.srt or .vtt).")
@click.option("--format", "output_format", hidden=True)  # from the settings: the extension without -o
@_errors_as_lines
def export(routine, output, engine, voice, rate, language, timeline_path, transcript, output_format):
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
    output = output or Path(f"{Path(routine).stem}.{output_format or 'mp3'}")
    check_destination(output, transcript, timeline_path, loaded)
    show = sys.stderr.isatty()
    try:
        with stop_signals():
            with Progress("Preparing speech", show) as bar:
                session = prepare(loaded, engine=engine, voice=voice, rate=rate, language=language,
                                  progress=bar.update)
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
@click.option("--lead-in", type=click.FloatRange(0, 10), show_default=True,
              metavar="SECONDS", help="Quiet lead-in so wireless headphones wake up.")
@click.option("--resume", is_flag=True, help="Continue from the exercise where the last session stopped.")
@_errors_as_lines
def play(routine, engine, voice, rate, language, lead_in, resume):
    """Start a hands-free spoken session.

    Keys (when run in a terminal): space pause/resume, n next exercise,
    p previous exercise, r repeat the last instruction, q stop.

    \b
    Examples:
        voicecoach play back-pain
        voicecoach play back-pain --rate 120 --resume
    """
    from .live.play import play_routine
    status = play_routine(routine, engine=engine, voice=voice, rate=rate, language=language,
                          lead_in_s=lead_in, resume=resume)
    if status:
        sys.exit(status)


def main() -> None:
    cli(prog_name="voicecoach")
