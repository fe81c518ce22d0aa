from mediacheck.cli import main

main()
