"""Output, the counterpart of :mod:`ketanb.input`: writing files whole and safely.

:mod:`writing` writes a file through a temporary file and a rename, hashes files, and keeps the
list of what a stage wrote (no pandas, so that the make steps that only hash and copy start fast);
:mod:`files` writes JSON and CSV (numbers to 12 significant digits, spreadsheet formulas
neutralised) and hands patient-level tables from one stage to the next inside the build folder.
"""
