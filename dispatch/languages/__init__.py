"""The language catalog: which languages an interpreter can be requested for, how people
name them (keypad code, ISO code, name, endonym, alias, speech), and what language a free
text is written in.

    from dispatch.languages import default_catalog
    cat = default_catalog()
    cat.resolve("2#").language.name        # "Mandarin"
    cat.resolve("I need Spanish please")   # match via "speech"
    cat.resolve("Chinese").choices         # Mandarin, Cantonese, Fuzhounese, Toisanese, ...
    cat.detect("Mwen bezwen yon entèprèt") # Haitian Creole via "markers"

Data lives in config/languages.csv; names and autonyms come from langcodes.
"""

from dispatch.languages.catalog import Catalog, default_catalog, load_catalog
from dispatch.languages.model import Detection, Language, Resolution

__all__ = [
    "Catalog",
    "Detection",
    "Language",
    "Resolution",
    "default_catalog",
    "load_catalog",
]
