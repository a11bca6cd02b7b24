"""HTTP API and command line: wires gis/, layers/ and store/ together."""
