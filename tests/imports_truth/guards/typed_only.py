NAME = 'typed_only'
import typed_helper  # reached only through TYPE_CHECKING
