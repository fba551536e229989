from assemblymesh.cli import main

main()
