from plentysync.cli.app import main

main()
