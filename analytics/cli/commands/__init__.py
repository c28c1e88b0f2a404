"""One module per `lastmile` subcommand: ``add_parser(subparsers)`` and ``run(args, ctx)``."""
