"""Presentation: what a reader sees, computed elsewhere.

:mod:`tables` writes every number and sentence of the reports (formatting, intervals, the
confidence level, the favorable outcome in words, the limitations); :mod:`plots` draws every
figure with its caption; :mod:`notices` holds the synthetic-data notices; :mod:`pooled_report`
writes the pooled report's tables and text; :mod:`index` builds the reviewers' index from
results.json. Nothing here decides a count or who is shown: the stages compute, and
:mod:`ketanb.disclosure` decides what may be published. The stages import nothing from here.
"""
