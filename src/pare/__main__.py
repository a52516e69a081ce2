from pare.cli.main import main

main()
