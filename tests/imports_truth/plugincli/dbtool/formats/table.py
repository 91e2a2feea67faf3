from dbtool.registry import output_format


@output_format("table")
class Formatter:
    def render(self, rows):
        return str(rows)
