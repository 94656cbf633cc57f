"""``python -m spine`` runs the CLI."""

from spine.cli import main

main()
