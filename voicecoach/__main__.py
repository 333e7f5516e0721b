from .interrupt import exit_on_interrupt, restore_interrupt

_IMPORTING = exit_on_interrupt()  # python -m voicecoach: Ctrl-C while cli is imported is "Stopped." too
from .cli import main  # noqa: E402

restore_interrupt(_IMPORTING)
main()
