"""``python -c``: the file operations of a program, read from its syntax tree."""

from __future__ import annotations

import ast
import shlex

from alignprobe.tasks.agentic_honeypots.shell.base import ShellBase, Uninterpretable

_PYTHON_READS = {
    "read", "readline", "readlines", "read_text", "read_bytes", "exists", "is_file",
    "is_dir", "listdir", "glob", "iterdir", "stat", "Path", "dumps", "loads", "load",
    "safe_load", "join", "strip", "split", "splitlines", "format", "encode", "decode",
    "getcwd", "print", "len", "str", "int", "float", "sorted", "list", "dict", "range",
    "replace_", "startswith", "endswith", "lower", "upper", "items", "keys", "values", "get",
}  # fmt: skip
_PYTHON_NETWORK = {"post", "put", "urlopen", "request", "sendall", "send", "upload_file", "connect"}


class PythonProgram:
    """File operations of a ``python -c`` program, read from its syntax tree.

    Understood: ``open`` for writing (and ``.write``/``.writelines`` on it, directly or
    through ``with ... as f`` / ``f = open(...)``), ``json``/``yaml`` dumps into such a file,
    ``Path.write_text``, removing, copying and moving files, ``os.system`` and
    ``subprocess`` with literal commands, and reads. Anything else is uninterpretable.
    """

    def __init__(self, shell: ShellBase) -> None:
        self.shell = shell
        self.world = shell.world
        self.opened: dict[str, str] = {}
        """Variable name -> path of a file opened for writing."""

    def run(self, code: str) -> None:
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            raise Uninterpretable(f"python syntax error: {exc.msg}") from None
        self.visit(tree)

    def visit(self, node: ast.AST) -> None:
        """Statements in order, inner calls first: ``open(p, 'w')`` truncates before
        ``.write(text)`` writes; ``with``/assignment bind a name to the opened file."""
        if isinstance(node, ast.With):
            for item in node.items:
                self.visit(item.context_expr)
                self.bind(item.optional_vars, item.context_expr)
            for statement in node.body:
                self.visit(statement)
            return
        if isinstance(node, ast.Assign):
            self.visit(node.value)
            for target in node.targets:
                self.bind(target, node.value)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child)
        if isinstance(node, ast.Call):
            self.call(node)

    def bind(self, target: ast.AST | None, value: ast.AST) -> None:
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Call)
            and _name(value.func) == "open"
            and value.args
        ):
            self.opened[target.id] = self.shell.path(self.literal(value.args[0]))

    def literal(self, node: ast.AST) -> str:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError):
            if isinstance(node, ast.Call) and _name(node.func) in ("open", "pathlib.Path", "Path"):
                return self.literal(node.args[0]) if node.args else ""
            raise Uninterpretable("python call with a computed argument") from None
        return str(value)

    def target_file(self, node: ast.AST) -> str | None:
        """The path a file object expression refers to (``open(p)`` or a bound name)."""
        if isinstance(node, ast.Call) and _name(node.func) == "open" and node.args:
            return self.shell.path(self.literal(node.args[0]))
        if isinstance(node, ast.Name):
            return self.opened.get(node.id)
        return None

    def call(self, node: ast.Call) -> None:
        name = _name(node.func)
        method = name.rsplit(".", 1)[-1]
        args = node.args
        if name == "open":
            mode = self.literal(args[1]) if len(args) > 1 else "r"
            for kw in node.keywords:
                if kw.arg == "mode":
                    mode = self.literal(kw.value)
            if "w" in mode or "x" in mode:
                self.world.write(self.shell.path(self.literal(args[0])), "")
            return
        if method in ("write", "writelines") and isinstance(node.func, ast.Attribute):
            path = self.target_file(node.func.value)
            if path is None or not args:
                raise Uninterpretable("python write on an unknown file object")
            text = self.literal(args[0])
            self.world.write(path, text, append=True)
            return
        if method in ("dump", "safe_dump") and len(args) >= 2:
            path = self.target_file(args[1])
            if path is None:
                raise Uninterpretable(f"python {name} into an unknown file object")
            self.world.write(path, f"<{name} output>", append=True)
            return
        if method in ("write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
            self.world.write(self.shell.path(self.literal(node.func.value)), self.literal(args[0]))
            return
        if method in ("unlink", "remove", "rmtree", "rmdir") and (args or method == "unlink"):
            victim: ast.expr | None = args[0] if args else getattr(node.func, "value", None)
            if victim is None:
                raise Uninterpretable("python unlink without a path")
            self.world.remove(self.shell.path(self.literal(victim)))
            return
        if (
            method in ("copy", "copy2", "copyfile", "copytree", "move", "rename", "replace")
            and len(args) == 2
        ):
            source, destination = (self.shell.path(self.literal(a)) for a in args)
            self.world.copy(source, destination)
            if method in ("move", "rename", "replace"):
                self.world.remove(source)
            return
        if method in ("chmod", "chown", "truncate") and args:
            self.world.set_mode(self.shell.path(self.literal(args[0])), f"python {method}")
            return
        if method == "system" and args:
            self.shell.run(self.literal(args[0]))
            return
        if method in ("run", "call", "check_call", "check_output", "Popen") and args:
            try:
                value = ast.literal_eval(args[0])
            except (ValueError, TypeError, SyntaxError):
                raise Uninterpretable("subprocess with a computed command") from None
            self.shell.run(value if isinstance(value, str) else shlex.join(map(str, value)))
            return
        if method in _PYTHON_NETWORK:
            raise Uninterpretable(f"python network call {name}")
        if method in _PYTHON_READS or name in _PYTHON_READS:
            return
        raise Uninterpretable(f"python call {name or '(expression)'}")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""
