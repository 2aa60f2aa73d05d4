from depot_cli.main import run

run()
