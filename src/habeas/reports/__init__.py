"""Statistics and open-data exports for the public, oversight and the pages."""
