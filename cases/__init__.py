"""Case handling rules: the lifecycle, time limits and indicators.

Pure functions and data, no web and no database: the store persists what these
rules decide, and the API calls them.
"""
