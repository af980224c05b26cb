"""The `pianocam` console script: dispatches to subcommands, importing each lazily."""
def main(argv=None):
    print("stub")
