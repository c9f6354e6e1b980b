"""The README's tables of the servers, made from their modules' TAG and FLAVOR_TABLE (its tests
check the README against these, as the variable reference against django_asgi.contract)."""

from django_asgi.servers import SERVERS, load


def tag_table(image: str = "django-asgi") -> str:
    rows = ["| Tag | Server |", "| --- | --- |"]
    rows += [f"| `{image}:{name}` | {load(name).TAG} |" for name in SERVERS]
    return "\n".join(rows)


def flavor_table() -> str:
    columns = {name: load(name).FLAVOR_TABLE for name in SERVERS}
    first = next(iter(columns.values()))
    for name, column in columns.items():
        if list(column) != list(first):
            raise ValueError(f"servers/{name}.py: FLAVOR_TABLE rows differ from the others': {list(column)}")
    rows = [f"| | {' | '.join(SERVERS)} |", "| --- |" + " --- |" * len(SERVERS)]
    rows += [f"| {row} | {' | '.join(column[row] for column in columns.values())} |" for row in first]
    return "\n".join(rows)
