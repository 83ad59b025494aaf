"""Input: the data contract as data (:mod:`.contract`), reading an extract (:mod:`.read`) and
checking it against every rule (:mod:`.validate`)."""
