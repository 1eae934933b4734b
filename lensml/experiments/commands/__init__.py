"""One module per ``lensml`` sub-command: ``add_arguments(parser)`` and ``main(args)``."""
