"""``importer map init``: a skeleton mapping file guessed from a legacy file.

``skeleton`` matches the file's header and samples its rows; ``synonyms`` holds what
legacy exports call the API's columns and values.
"""
