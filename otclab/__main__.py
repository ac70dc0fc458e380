from otclab.cli.main import run

run()
