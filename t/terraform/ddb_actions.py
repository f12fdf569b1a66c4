"""The DynamoDB operations each program can call, derived from the C sources: every C
function's operation literals (ddb_call(..., "Op", ...), and lib/ddb.c's call(...)), closed
over the calls between functions, and gathered from the program's own files."""
import os
import re

SERVICE_DIRS = ("fcgi", "handlers", "campaign", "saas", "lib")
OP_CALL = re.compile(r'\b(?:ddb_call|run|call)\s*\(\s*[^,()]+,\s*"([A-Z][A-Za-z]+)"')
FUNC_START = re.compile(r"^([a-z_][a-z0-9_]*)\s*\(", re.M)
IDENT = re.compile(r"\b([a-z_][a-z0-9_]*)\s*\(")
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _functions(path):
    """{name: body} of the top-level functions of one C file (the style puts the name at
    column 0 and the closing brace of a function at column 0)."""
    with open(path, encoding="utf-8") as f:
        text = COMMENT.sub("", f.read())
    out = {}
    for m in FUNC_START.finditer(text):
        end = text.find("\n}", m.end())
        brace = text.find("{", m.end())
        semi = text.find(";", m.end())
        if end < 0 or brace < 0 or (0 <= semi < brace):
            continue
        out[m.group(1)] = text[m.start():end]
    return out


def _files(root, dirs):
    for d in dirs:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if name.endswith(".c"):
                yield os.path.join(d, name)


# The prodenthubctl commands the package's units run on the instance, with its profile
# (deploy/: the mailer and the timers); their operations must be the service role's.
INSTANCE_JOBS = ("ctl_send_mail", "ctl_sweep_checkouts", "ctl_expire_teams",
                 "ctl_send_reminders", "ctl_expire_statements")


def operations(root):
    """{"prodenthub-fcgi": set, "prodenthubctl": set, "instance jobs": set}"""
    files = {}
    for rel in _files(root, SERVICE_DIRS):
        files[rel] = _functions(os.path.join(root, rel))
    glob = {}
    for rel, funcs in files.items():
        for name in funcs:
            glob.setdefault(name, []).append(rel)

    memo = {}

    def ops(rel, name, stack):
        key = (rel, name)
        if key in memo:
            return memo[key]
        if key in stack:
            return set()
        stack.add(key)
        body = files[rel][name]
        found = set(OP_CALL.findall(body))
        for callee in set(IDENT.findall(body)):
            if callee == name:
                continue
            if callee in files[rel]:
                found |= ops(rel, callee, stack)
            else:
                for other in glob.get(callee, []):
                    found |= ops(other, callee, stack)
        stack.discard(key)
        memo[key] = found
        return found

    def program(rels):
        out = set()
        for rel in rels:
            for name in files[rel]:
                out |= ops(rel, name, set())
        return out

    ctl = [r for r in files if re.match(r"fcgi/ctl[^/]*\.c$", r)]
    service = [r for r in files if r not in ctl]
    jobs = set()
    for name in INSTANCE_JOBS:
        rels = glob.get(name)
        if not rels:
            raise SystemExit("ddb_actions: no function %s in fcgi/ctl*.c" % name)
        for rel in rels:
            jobs |= ops(rel, name, set())
    return {"prodenthub-fcgi": program(service), "prodenthubctl": program(ctl),
            "instance jobs": jobs}


if __name__ == "__main__":
    import sys
    for prog, s in sorted(operations(sys.argv[1] if len(sys.argv) > 1 else ".").items()):
        print(prog, " ".join(sorted(s)))
