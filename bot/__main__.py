"""`python -m bot`: the same as the `tweetchat` command."""

from bot.cli import main

main()
