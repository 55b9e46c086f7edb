"""The teaching artefacts: the worked solution, the handout page, the mistake catalogue, the checker."""
