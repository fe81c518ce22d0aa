"""The pages, one module per family: session (login), cases, actions (form posts under a
case), pictures (derived pictures by id) and files (intake, match, reports, bundles)."""
