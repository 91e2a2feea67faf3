from dbtool.registry import output_format


@output_format("json")
class Formatter:
    def render(self, rows):
        return str(rows)
