"""Reading a submission's source on the trusted side: what matters, decided before any of it runs.

Student code is parsed here, outside the sandbox, with the standard library
only, and never run. Three kinds of finding:

- ``answer-key``: the code imports or reaches the grader's own package beyond
  the module(s) the release may import, or the machinery that loads modules
  by name (``__import__``, ``importlib``, ``sys.modules``, ...).
- ``review``: dynamic code a reader cannot see through (``eval``, a computed
  ``getattr``, ``ctypes``, frame and namespace introspection, processes):
  a person should look before the grade is final (the points stand until then).
- ``autograd``: a gradient function, or anything it calls, uses autograd.

Each rule is a line in one of the tables below (PATH_RULES for dotted paths,
IDENTIFIER_RULES for names and attributes, then a keyword and three kinds of
string), with the sentence that explains it to the student.

Attribution. Every top-level statement of every cell is a *unit*. A student
function's code is the units that bind its name (the last binding that cannot
fail, as in a kernel run top to bottom, and every later binding that may or
may not happen), plus, transitively, the units binding every top-level name
that code reads, as of the moment it runs. A finding in that closure belongs
to the function. Code that runs when a cell runs (anything but a plain
definition), and everything it calls, runs before every check and can change
what each one sees, and so can a function that writes to objects outside
itself: their answer-key and review findings belong to the notebook as a
whole (``function`` None). What cannot be read (a cell nested too deeply,
source beyond the size limit) is a notebook-wide ``review`` finding.

The analysis never raises and its cost is bounded: trees are walked with an
explicit stack, and the source size, the nodes read, the attribution search
and constant folding all have limits. About 1 ms a notebook for the sample
class; about a second for the worst notebook within the limits.
"""
from __future__ import annotations

import ast
import bisect
import builtins
import math
import re
import warnings
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Callable, Collection, Iterable, Mapping, Sequence

KINDS = ("answer-key", "review", "autograd")
GRADER_PACKAGE = "autograder"
# nbgrader keeps the instructor's notebooks in solutions/ and the grades in gradebook.db:
# a path through either is a path to the answers.
ANSWER_PATH_PARTS = frozenset({"solutions", "gradebook.db"})

# A notebook's code is a few thousand characters and a few thousand syntax
# nodes; beyond these limits the rest is left unread. They keep the worst
# notebook near a second here: parsing costs up to 5 us a character of the
# densest code, reading 10-20 us a node.
SOURCE_LIMIT = 200_000
NODE_LIMIT = 50_000
# Modules whose import cannot fail where student code runs (import numpy as np before a def
# leaves the def certain to run). Any other import may fail and stop the rest of its cell,
# even one from the standard library (tkinter is missing from many builds).
CERTAIN_IMPORTS = frozenset({"math", "random", "functools", "itertools", "collections", "typing", "time",
                             "statistics", "numpy", "torch"})
# Charged per cell on top of its text, so that a flood of empty cells is bounded too.
CELL_COST = 100
# Steps of the attribution search; real notebooks take a few hundred. Past it,
# every finding counts for every function rather than risk a wrong attribution.
SEARCH_LIMIT = 200_000
# Nodes looked at when folding a constant string such as 'auto' + 'grad'.
FOLD_LIMIT = 64
# Passes when following aliases (t = torch; ag = t.autograd) and the paths kept per name.
ALIAS_PASSES = 8
ALIAS_PATHS = 32
# Strings longer than this are not searched for paths.
STRING_SCAN = 4096

_FINAL = math.inf  # "when the checks run": after every cell has run
_BUILTIN_NAMES = frozenset(dir(builtins))


# --- the findings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing the grader must act on. ``function`` is None for the notebook as a whole.

    ``where`` is like "cell 3, line 2": cells count the code cells given to
    ``analyse`` from 1, lines count from 1 within the cell. ``found`` is what
    matched (``torch.autograd.grad``, ``.backward``, ``eval``).
    """
    kind: str
    function: str | None
    reason: str
    where: str
    found: str = ""


@dataclass(frozen=True)
class Note:
    """Something worth knowing that costs no points, such as a cell with a syntax error."""
    kind: str
    where: str
    message: str


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def for_function(self, name: str) -> list[Finding]:
        """That function's findings and the notebook-wide ones, which apply to every function."""
        return [finding for finding in self.findings if finding.function in (name, None)]

    def kinds(self, name: str) -> set[str]:
        return {finding.kind for finding in self.for_function(name)}

    def to_json(self) -> dict:
        """Plain data (dicts, lists, strings), ready for json.dumps."""
        return {"findings": [asdict(finding) for finding in self.findings],
                "notes": [asdict(note) for note in self.notes]}

    @classmethod
    def from_json(cls, data: dict) -> Analysis:
        """The inverse of to_json; ValueError when the data has another shape."""
        try:
            findings = [Finding(**item) for item in data["findings"]]
            notes = [Note(**item) for item in data["notes"]]
        except (KeyError, TypeError) as error:
            raise ValueError(f"not an analysis: {error}") from None
        texts = [text for finding in findings for text in (finding.reason, finding.where, finding.found)]
        texts += [text for note in notes for text in (note.kind, note.where, note.message)]
        if not all(isinstance(text, str) for text in texts) or any(
                finding.kind not in KINDS or not isinstance(finding.function, (str, type(None)))
                for finding in findings):
            raise ValueError("not an analysis: a field of the wrong kind or type")
        return cls(findings, notes)


# --- the rules ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rule:
    kind: str
    phrase: str  # a verb phrase completed with what was found: "uses autograd ({found})"
    group: str = ""  # rules of one group make one finding per function; by default each rule is its own

    def __post_init__(self):
        if not self.group:
            object.__setattr__(self, "group", self.phrase)


_GRADER_USE = _Rule("answer-key", "uses {found}, the grader's own code and answers", "grader")
_GRADER_IMPORT = _Rule("answer-key", "imports {found}, the grader's own code and answers", "grader")
_RELATIVE = _Rule("answer-key", "uses a relative import ({found}), which can resolve inside the grader's own package")
_ANSWER_FILE = _Rule("answer-key", "names {found}, where the course keeps its answers")
_LOADS_BY_NAME = _Rule("answer-key", "loads modules by name ({found}), a way into the grader's own answers")
_MODULE_TABLE = _Rule("answer-key", "reaches the table of loaded modules ({found}), "
                                    "where the grader's own answers live")
_RUNS_TEXT = _Rule("review", "runs code made from text at run time ({found}), which the grader cannot read")
_NAMESPACE = _Rule("review", "reads or rewrites a namespace directly ({found}), which the grader cannot follow")
_COMPUTED_NAME = _Rule("review", "looks up attributes by names computed at run time ({found}), "
                                 "which the grader cannot follow")
_INTROSPECTION = _Rule("review", "inspects the interpreter's own objects ({found}), a way around what the grader reads")
_RAW_MEMORY = _Rule("review", "reaches raw memory ({found}), below anything the grader can read")
_PROC = _Rule("review", "reads the process's own memory or state ({found}), below anything the grader can read")
_TORCH_INTERNALS = _Rule("review", "reaches torch's internals ({found}), where autograd can hide")
_DECODES = _Rule("review", "decodes code or objects at run time ({found}), which the grader cannot read")
_PROCESSES = _Rule("review", "starts or signals processes ({found}), which the grader cannot follow")
_AUTOGRAD = _Rule("autograd", "uses autograd ({found})")


def _table(groups: dict[_Rule, Iterable[str]]) -> dict[str, _Rule]:
    return {key: rule for rule, keys in groups.items() for key in keys}


# Dotted paths, matched with everything below them ("torch.autograd" covers
# torch.autograd.grad). Names bound by no statement are read as "builtins.<name>".
PATH_RULES = _table({
    _LOADS_BY_NAME: ["builtins.__import__", "importlib", "imp", "pkgutil", "runpy", "zipimport"],
    _MODULE_TABLE: ["sys.modules", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache"],
    _RUNS_TEXT: ["builtins.eval", "builtins.exec", "builtins.compile", "types.CodeType", "types.FunctionType"],
    _NAMESPACE: ["builtins.globals", "builtins.vars", "builtins.locals"],
    _COMPUTED_NAME: ["operator.attrgetter", "operator.methodcaller"],
    _INTROSPECTION: ["inspect", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._getframe",
                     "sys._current_frames", "sys.settrace", "sys.setprofile"],
    _RAW_MEMORY: ["ctypes", "_ctypes", "cffi", "mmap"],
    _TORCH_INTERNALS: ["torch._C", "torch.ops"],
    _DECODES: ["marshal", "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle", "dill", "cloudpickle",
               "shelve", "codecs", "torch.load"],
    _PROCESSES: ["subprocess", "_posixsubprocess", "multiprocessing", "pty", "signal", "posix",
                 *(f"os.{name}" for name in ("system", "popen", "fork", "forkpty", "kill", "killpg",
                                             "posix_spawn", "posix_spawnp", "execl", "execle", "execlp",
                                             "execlpe", "execv", "execve", "execvp", "execvpe", "spawnl",
                                             "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve",
                                             "spawnvp", "spawnvpe"))],
    # A Parameter requires grad from birth; its graph's grad_fn nodes give gradients without backward().
    _AUTOGRAD: ["torch.autograd", "torch.func", "functorch", "torch.optim", "torch.nn.Parameter",
                "torch.nn.parameter"],
})
_RULE_DEPTH = max(key.count(".") + 1 for key in PATH_RULES)

# Identifiers, wherever they appear as an attribute (x.backward, even when x
# cannot be traced), a constant getattr name, or a name no statement binds.
# The dunders count even as names the student binds.
IDENTIFIER_RULES = _table({
    _LOADS_BY_NAME: ["__import__"],
    _NAMESPACE: ["__dict__", "__globals__", "__builtins__", "__package__"],
    _INTROSPECTION: ["__code__", "__closure__", "__subclasses__", "__bases__", "__base__", "__mro__", "__self__",
                     "__loader__", "__spec__", "__getattribute__", "__defaults__", "__kwdefaults__",
                     "__reduce__", "__reduce_ex__", "f_globals", "f_locals", "f_back", "f_builtins",
                     "tb_frame", "gi_frame", "cr_frame", "ag_frame", "_getframe"],
    _TORCH_INTERNALS: ["_execution_engine", "_C"],
    _AUTOGRAD: ["backward", "requires_grad", "requires_grad_", "grad_fn", "autograd", "functorch", "optim",
                "jacrev", "jacfwd", "vjp", "jvp", "hessian"],
})
# Identifiers by their ending: torch's derivative kernels (torch.ops.aten.mse_loss_backward).
IDENTIFIER_SUFFIX_RULES = {"_backward": _AUTOGRAD}

# A keyword argument that switches autograd on unless it is the constant False.
AUTOGRAD_KEYWORD = "requires_grad"

# Strings, also when folded from constants ('/pr' + 'oc'): a path in /proc
# (the process's memory maps and memory), a dotted name read as a path
# ('autograder.reference', 'sys.modules'), the autograd keyword or a dunder
# from IDENTIFIER_RULES, or a path through the course's answers
# (ANSWER_PATH_PARTS, or the grader's package outside the allowed modules).
PROC = "/proc"

# Calls whose attribute name is their second argument, and calls that import their first.
ATTRIBUTE_FUNCTIONS = frozenset({"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr"})
IMPORT_FUNCTIONS = frozenset({"builtins.__import__", "importlib.import_module", "importlib.__import__"})

_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_PATH_SEPARATORS = re.compile(r"[\\/]+")


# --- parsing ----------------------------------------------------------------------------------------

def _parse(cells: Sequence[str]) -> tuple[list[tuple[int, ast.Module]], list[tuple[str, str, str]], list[Note]]:
    """(cell number, tree) for every cell that parses; notebook-wide problems (problem, detail, where); notes."""
    trees, problems, notes = [], [], []
    budget = SOURCE_LIMIT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning and friends are the student's, not the grader's output
        for number, source in enumerate(cells, 1):
            where = f"cell {number}"
            if not isinstance(source, str):
                problems.append(("unreadable", "a cell that is not text", where))
                continue
            cost = len(source) + CELL_COST
            if cost > budget:
                problems.append(("too-large", "", where))
                continue
            budget -= cost
            try:
                trees.append((number, ast.parse(source)))
            except SyntaxError as error:
                line = f", line {error.lineno}" if error.lineno else ""
                notes.append(Note("syntax", where + line, f"{type(error).__name__}: {error.msg}"))
            except (RecursionError, MemoryError):
                problems.append(("too-deep", "", where))
            except ValueError:  # nothing Python can compile either
                problems.append(("unreadable", "it holds a null byte or a character Python cannot encode", where))
    return trees, problems, notes


# --- reading the trees ------------------------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# What a definition's immediate code may hold and still run none of the student's code.
_INERT = (ast.Name, ast.Attribute, ast.Constant, ast.Lambda, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred,
          ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Pass, ast.Expr,
          ast.Import, ast.ImportFrom, ast.arguments, ast.arg)


def _function_parts(node) -> list[ast.AST]:
    """What a def or lambda evaluates when it is defined: decorators, defaults, annotations."""
    args = node.args
    parts = list(getattr(node, "decorator_list", [])) + list(args.defaults)
    parts += [default for default in args.kw_defaults if default is not None]
    for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
        if arg is not None and arg.annotation is not None:
            parts.append(arg.annotation)
    if getattr(node, "returns", None) is not None:
        parts.append(node.returns)
    return parts


def _parameters(args: ast.arguments) -> set[str]:
    return {arg.arg for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg)
            if arg is not None}


def _chain(node) -> tuple[ast.AST, list[str], list[ast.AST]]:
    """x.a.b and getattr(x, 'a').b as (x, ['a', 'b'], other nodes to read: getattr's default)."""
    parts, others = [], []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif _constant_getattr(node):
            parts.append(node.args[1].value)
            others += node.args[2:]
            node = node.args[0]
        else:
            parts.reverse()
            return node, parts, others


def _constant_getattr(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def _fold(node) -> str | None:
    """The value of a string made only of constants ('auto' + 'grad', f'{"x"}y'), else None."""
    values: list[str] = []
    stack = [(node, False)]
    steps = 0
    while stack:
        node, combine = stack.pop()
        steps += 1
        if steps > FOLD_LIMIT:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            values.append(node.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if combine:
                right = values.pop()
                values.append(values.pop() + right)
            else:
                stack += [(node, True), (node.right, False), (node.left, False)]
        elif isinstance(node, ast.JoinedStr):
            if combine:
                count = len(node.values)
                joined = "".join(values[len(values) - count:])
                del values[len(values) - count:]
                values.append(joined)
            else:
                stack.append((node, True))
                stack += [(part, False) for part in reversed(node.values)]
        elif isinstance(node, ast.FormattedValue) and node.conversion == -1 and node.format_spec is None:
            stack.append((node.value, False))
        else:
            return None
    return values[0] if len(values) == 1 else None


def _certain(node) -> bool:
    """An expression that cannot raise: constants and lambdas with constant defaults."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Constant):
            continue
        if isinstance(node, ast.Lambda):
            stack += _function_parts(node)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            stack += node.elts
        elif isinstance(node, ast.Dict) and all(isinstance(key, ast.Constant) for key in node.keys):
            stack += node.values
        else:
            return False
    return True


def _certain_statement(stmt) -> bool:
    """A statement that cannot raise, so the statements after it in its cell surely run."""
    if isinstance(stmt, _FUNCTIONS):
        return not stmt.decorator_list and all(_certain(part) for part in _function_parts(stmt))
    if isinstance(stmt, ast.Assign):
        return all(isinstance(target, ast.Name) for target in stmt.targets) and _certain(stmt.value)
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, ast.Import):
        return all(alias.name in CERTAIN_IMPORTS for alias in stmt.names)
    return isinstance(stmt, ast.Pass)


def _definition(stmt) -> bool:
    """A statement that only defines names (it still may run code: see _Unit.inert)."""
    if isinstance(stmt, (*_FUNCTIONS, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, ast.ClassDef):
        # Bases and keywords run __init_subclass__ and metaclasses, decorators run anything.
        return not (stmt.bases or stmt.keywords or stmt.decorator_list)
    targets = stmt.targets if isinstance(stmt, ast.Assign) else \
        [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else None
    if targets is None:
        return False
    stack = list(targets)
    while stack:
        target = stack.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            stack += target.elts
        elif isinstance(target, ast.Starred):
            stack.append(target.value)
        elif not isinstance(target, ast.Name):
            return False
    return True


@dataclass
class _Bindings:
    """The names one scope binds, with where its imports and plain aliases point."""
    names: set = field(default_factory=set)
    imports: dict = field(default_factory=dict)   # name -> {dotted path}
    aliases: list = field(default_factory=list)   # (name, the expression it names): t = torch
    stars: list = field(default_factory=list)     # modules imported with *
    globals: set = field(default_factory=set)     # declared global: bound at the top level
    nonlocals: set = field(default_factory=set)   # declared nonlocal: bound further out


def _bindings(nodes: Iterable[ast.AST]) -> _Bindings:
    """What a scope's own code binds; nested scopes are not entered, but what they evaluate on the spot is."""
    found = _Bindings()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            found.names.add(node.name)
            stack += _function_parts(node) if isinstance(node, _FUNCTIONS) else \
                [*node.decorator_list, *node.bases, *node.keywords]
        elif isinstance(node, ast.Lambda):
            stack += _function_parts(node)
        elif isinstance(node, _COMPREHENSIONS):
            # Their targets are their own; a walrus inside binds here.
            for generator in node.generators:
                stack += [generator.iter, *generator.ifs]
            stack += [getattr(node, name) for name in ("elt", "key", "value") if hasattr(node, name)]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                found.names.add(name)
                found.imports.setdefault(name, set()).add(alias.name if alias.asname else name)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    found.stars.append(module)
                    continue
                name = alias.asname or alias.name
                found.names.add(name)
                found.imports.setdefault(name, set()).add(f"{module}.{alias.name}" if module else alias.name)
        elif isinstance(node, ast.Global):
            found.globals.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            found.nonlocals.update(node.names)
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                found.names.add(node.id)
        elif not isinstance(node, ast.expr_context):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and (
                    isinstance(node.value, (ast.Name, ast.Attribute)) or _constant_getattr(node.value)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.aliases += [(target.id, node.value) for target in targets if isinstance(target, ast.Name)]
            elif isinstance(node, ast.ExceptHandler) and node.name:
                found.names.add(node.name)
            elif type(node).__name__ in ("MatchAs", "MatchStar") and node.name:
                found.names.add(node.name)
            elif type(node).__name__ == "MatchMapping" and node.rest:
                found.names.add(node.rest)
            stack.extend(ast.iter_child_nodes(node))
    return found


class _Scope:
    """A namespace as Python resolves names: function, class, comprehension, or the notebook's top level."""
    __slots__ = ("kind", "parent", "module", "names", "globals", "paths")

    def __init__(self, kind: str, parent: _Scope | None, bindings: _Bindings):
        self.kind = kind
        self.parent = parent
        self.module = parent.module if parent else self
        self.globals = bindings.globals if parent else set()
        self.names = bindings.names - bindings.globals - bindings.nonlocals if parent else bindings.names
        self.paths: dict[str, set[str]] = {name: set(paths) for name, paths in bindings.imports.items()}

    def lookup(self, name: str) -> _Scope | None:
        """The scope whose binding of name a read here finds; None when no statement binds it (a builtin)."""
        scope, first = self, True
        while scope.parent is not None:
            if name in scope.globals:
                scope = scope.module
                break
            # A class body's names are visible in the body itself, not in the functions inside it.
            if (first or scope.kind != "class") and name in scope.names:
                return scope
            first = False
            scope = scope.parent
        return scope if name in scope.names else None


@dataclass
class _Hit:
    rule: _Rule
    found: str
    line: int
    column: int
    deferred: bool  # inside a def or lambda body: runs only when called
    name: str | None = None  # the top-level name whose import it comes from (a stand-in may replace it)


@dataclass
class _Unit:
    """One top-level statement: what it binds, reads and contains."""
    position: int
    cell: int
    stmt: ast.stmt
    bindings: _Bindings
    always: set        # names it surely binds: neither it nor anything before it in its cell can fail
    maybe: set         # names it may bind
    star: bool         # binds names nobody can list (from module import *)
    definition: bool   # a def, class, import or assignment to names
    hits: list = field(default_factory=list)
    # Top-level names read (dicts, to keep their order) when the statement runs...
    reads_now: dict = field(default_factory=dict)
    # ... and when a function it defines is called.
    reads_later: dict = field(default_factory=dict)
    runs_code: bool = False  # its immediate code may run the student's code (a call, an operator, ...)
    calls: bool = False      # its immediate code calls something, which may call what it defines
    escapes: bool = False    # a function in it writes to objects outside itself

    @property
    def inert(self) -> bool:
        """Running it only binds names: a definition whose immediate code runs nothing."""
        return self.definition and not self.runs_code

    def label(self) -> str:
        names = sorted(self.always | self.maybe)
        return names[0] if names else f"code in cell {self.cell}"


class _Reader:
    """Walks one unit's tree with an explicit stack: resolves names, records hits and top-level reads."""

    def __init__(self, notebook: _Notebook, unit: _Unit | None):
        self.notebook = notebook
        self.unit = unit

    # -- where names point ------------------------------------------------------------------------

    def name_paths(self, name: str, scope: _Scope) -> tuple[_Scope | None, set[str]]:
        owner = scope.lookup(name)
        if owner is not None:
            return owner, owner.paths.get(name, set())
        if name in _BUILTIN_NAMES:
            return None, {f"builtins.{name}"}
        return None, {f"builtins.{name}", *(f"{module}.{name}" for module in self.notebook.star_modules)}

    def node_paths(self, node, scope: _Scope) -> set[str]:
        """The dotted paths an expression may name; empty when it cannot be traced."""
        root, parts, _ = _chain(node)
        if not isinstance(root, ast.Name):
            return set()
        suffix = "".join("." + part for part in parts)
        return {path + suffix for path in self.name_paths(root.id, scope)[1]}

    # -- hits -------------------------------------------------------------------------------------

    def hit(self, rule: _Rule, found: str, node, deferred: bool, name: str | None = None) -> None:
        self.unit.hits.append(_Hit(rule, _printable(found), getattr(node, "lineno", 0),
                                   getattr(node, "col_offset", 0), deferred, name))

    def path_hits(self, path: str, node, deferred: bool, importing: bool = False,
                  kinds: Collection[str] = KINDS, name: str | None = None) -> set[str]:
        """Records what one dotted path hits (name: the top-level name it starts from); returns the kinds hit."""
        kinds_hit = set()
        reach = self.notebook.grader_reach(path)
        if reach and "answer-key" in kinds:
            self.hit(_GRADER_IMPORT if importing else _GRADER_USE, reach, node, deferred, name)
            kinds_hit.add("answer-key")
        parts = path.split(".")
        for count in range(1, min(len(parts), _RULE_DEPTH) + 1):
            rule = PATH_RULES.get(".".join(parts[:count]))
            if rule is not None:
                if rule.kind in kinds:
                    self.hit(rule, ".".join(parts[:count + 1]).removeprefix("builtins."), node, deferred, name)
                    kinds_hit.add(rule.kind)
                break
        return kinds_hit

    def identifier_hit(self, identifier: str, shown: str, node, deferred: bool, skip: Collection[str]) -> None:
        rule = IDENTIFIER_RULES.get(identifier) or next(
            (rule for suffix, rule in IDENTIFIER_SUFFIX_RULES.items() if identifier.endswith(suffix)), None)
        if rule is not None and rule.kind not in skip:
            self.hit(rule, shown, node, deferred)

    def string_hits(self, text: str, node, deferred: bool) -> None:
        if text == PROC or text.startswith(PROC + "/"):
            self.hit(_PROC, text, node, deferred)
        if len(text) > STRING_SCAN:
            return
        if _MODULE_NAME.fullmatch(text):
            # A name spelled as a string ({'requires_grad': True}, 'sys.modules') is still that name.
            if "." in text or text == GRADER_PACKAGE:
                self.path_hits(text, node, deferred)
            elif text == AUTOGRAD_KEYWORD or (text in IDENTIFIER_RULES and text.startswith("__")):
                self.identifier_hit(text, repr(text), node, deferred, skip=())
        elif "/" in text or "\\" in text:
            parts = [part for part in _PATH_SEPARATORS.split(text) if part]
            for index, part in enumerate(parts):
                module = ".".join(parts[index:]).removesuffix(".py") if part == GRADER_PACKAGE else ""
                if part in ANSWER_PATH_PARTS or (module and (
                        not _MODULE_NAME.fullmatch(module) or self.notebook.grader_reach(module))):
                    self.hit(_ANSWER_FILE, text, node, deferred)
                    break

    # -- the walk ---------------------------------------------------------------------------------

    def read_unit(self) -> None:
        # (node, scope, deferred, called): called is True for the function of a call.
        stack: list[tuple[ast.AST, _Scope, bool, bool]] = [(self.unit.stmt, self.notebook.scope, False, False)]
        notebook = self.notebook
        while stack:
            node, scope, deferred, called = stack.pop()
            notebook.nodes += 1
            if notebook.nodes > NODE_LIMIT:
                raise _TooLarge
            if isinstance(node, ast.expr_context):
                continue
            if not deferred and not isinstance(node, _INERT):
                self.unit.runs_code = True
            if isinstance(node, _SCOPES):
                self.enter(node, scope, deferred, stack)
            elif isinstance(node, ast.Attribute) or _constant_getattr(node):
                self.read_chain(node, scope, deferred, called, stack)
            elif isinstance(node, ast.Name):
                self.read_name(node, scope, deferred, called)
            elif isinstance(node, ast.Call):
                self.read_call(node, scope, deferred, stack)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.read_import(node, deferred)
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, str):
                    self.string_hits(node.value, node, deferred)
                elif isinstance(node.value, bytes):
                    self.string_hits(node.value[:STRING_SCAN].decode("latin-1"), node, deferred)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                self.unit.maybe.update(node.names if isinstance(node, ast.Global) else ())
                self.unit.escapes |= deferred
            else:
                if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
                    self.note_write(node.value, scope, deferred)
                stack += [(child, scope, deferred, False) for child in ast.iter_child_nodes(node)]
        self.unit.hits.sort(key=lambda hit: (hit.line, hit.column))  # the walk is last in, first out

    def enter(self, node, scope: _Scope, deferred: bool, stack: list) -> None:
        """A nested scope: what it evaluates on the spot belongs to this scope, its body to its own."""
        if isinstance(node, _COMPREHENSIONS):
            first, *rest = node.generators
            stack.append((first.iter, scope, deferred, False))
            targets = {name.id for generator in node.generators for name in ast.walk(generator.target)
                       if isinstance(name, ast.Name)}
            inner = _Scope("comprehension", scope, _Bindings(names=targets))
            body = [*first.ifs, *(part for generator in rest for part in (generator.iter, *generator.ifs)),
                    *(getattr(node, name) for name in ("elt", "key", "value") if hasattr(node, name))]
            stack += [(part, inner, deferred, False) for part in body]
            return
        if not deferred and (getattr(node, "decorator_list", None) or getattr(node, "bases", None)
                             or getattr(node, "keywords", None)):
            self.unit.calls = True  # a decorator, __init_subclass__ or a metaclass gets what is defined here
        if isinstance(node, ast.ClassDef):
            stack += [(part, scope, deferred, False) for part in (*node.decorator_list, *node.bases, *node.keywords)]
            inner = _Scope("class", scope, _bindings(node.body))
            stack += [(part, inner, deferred, False) for part in node.body]
            return
        stack += [(part, scope, deferred, False) for part in _function_parts(node)]
        body = node.body if isinstance(node, _FUNCTIONS) else [node.body]
        bindings = _bindings(body)
        bindings.names |= _parameters(node.args)
        inner = _Scope("function", scope, bindings)
        for _ in range(2):  # local aliases: t = torch; ag = t.autograd
            for name, value in bindings.aliases:
                if name in inner.names:
                    inner.paths.setdefault(name, set()).update(self.node_paths(value, inner))
        stack += [(part, inner, True, False) for part in body]

    def read_chain(self, node, scope: _Scope, deferred: bool, called: bool, stack: list) -> None:
        """x.a.b as one path: torch.autograd.grad is autograd, autograder.data.lecture_data is allowed."""
        root, parts, others = _chain(node)
        stack += [(other, scope, deferred, False) for other in others]
        for link in _links(node):
            if isinstance(link, ast.Call):  # getattr(x, 'a'): a call, of whatever getattr names here
                self.read_name(link.func, scope, deferred, called=True)
                self.unit.calls |= not deferred
                self.unit.runs_code |= not deferred
        kinds_hit: set[str] = set()
        writes = isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del))
        if isinstance(root, ast.Name):
            # The root is read as part of the path, not on its own (autograder alone would be the package).
            owner, paths = self.read_name(root, scope, deferred, called=True, alone=False)
            full = {path + "".join("." + part for part in parts) for path in paths}
            top_level = root.id if owner is None or owner.kind == "module" else None
            for path in full:
                kinds_hit |= self.path_hits(path, node, deferred, name=top_level)
            if not called and full & ATTRIBUTE_FUNCTIONS:
                self.hit(_COMPUTED_NAME, f"{parts[-1]} passed around", node, deferred)
        else:
            stack.append((root, scope, deferred, False))
        if writes:
            self.note_write(root, scope, deferred)
        for part in parts:
            self.identifier_hit(part, "." + part, node, deferred, skip=kinds_hit)

    def read_name(self, node: ast.Name, scope: _Scope, deferred: bool, called: bool,
                  alone: bool = True) -> tuple[_Scope | None, set[str]]:
        """Records a read of a top-level name and, for a name on its own, what its paths hit."""
        name = node.id
        owner, paths = self.name_paths(name, scope)
        reading = isinstance(node.ctx, ast.Load)
        top_level = owner is None or owner.kind == "module"
        if reading and top_level:
            (self.unit.reads_later if deferred else self.unit.reads_now)[name] = None
        kinds_hit = set()
        if alone and reading:
            for path in paths:
                kinds_hit |= self.path_hits(path, node, deferred, name=name if top_level else None)
            if not called and paths & ATTRIBUTE_FUNCTIONS:
                self.hit(_COMPUTED_NAME, f"{name} passed around", node, deferred)
        if owner is None or (name.startswith("__") and name.endswith("__")):
            self.identifier_hit(name, name, node, deferred, skip=kinds_hit)
        return owner, paths

    def read_call(self, node: ast.Call, scope: _Scope, deferred: bool, stack: list) -> None:
        if not deferred:
            self.unit.calls = True
        function_paths = self.node_paths(node.func, scope)
        if function_paths & ATTRIBUTE_FUNCTIONS:
            self.read_attribute_call(node, scope, deferred)
            if function_paths & {"builtins.setattr", "builtins.delattr"} and node.args:
                self.note_write(node.args[0], scope, deferred)
        if function_paths & IMPORT_FUNCTIONS and node.args:
            module = _fold(node.args[0])
            if module:
                self.path_hits(module, node, deferred, importing=True)
        for keyword in node.keywords:
            if keyword.arg == AUTOGRAD_KEYWORD and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                self.hit(_AUTOGRAD, f"{AUTOGRAD_KEYWORD}=", keyword.value, deferred)
        if node.args and not isinstance(node.args[0], ast.Constant):
            text = _fold(node.args[0])
            if text is not None:
                self.string_hits(text, node, deferred)
        stack.append((node.func, scope, deferred, True))
        stack += [(part, scope, deferred, False) for part in node.args]
        stack += [(keyword.value, scope, deferred, False) for keyword in node.keywords]

    def read_attribute_call(self, node: ast.Call, scope: _Scope, deferred: bool) -> None:
        """getattr and its siblings: a constant name reads like an attribute, a computed one needs a person."""
        function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "getattr")
        name_node = node.args[1] if len(node.args) >= 2 else None
        if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
            self.hit(_COMPUTED_NAME, f"{function} with a computed name", node, deferred)
        name = _fold(name_node) if name_node is not None else None
        if name is None:
            return
        kinds_hit: set[str] = set()
        for path in self.node_paths(node.args[0], scope):
            kinds_hit |= self.path_hits(f"{path}.{name}", node, deferred)
        self.identifier_hit(name, "." + name, node, deferred, skip=kinds_hit)

    def read_import(self, node, deferred: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                # Without "as" the name bound is the top package (torch): the submodule counts where it is used.
                kinds = KINDS if alias.asname or "." not in alias.name else ("answer-key", "review")
                self.path_hits(alias.name, node, deferred, importing=True, kinds=kinds)
        elif node.level:
            self.hit(_RELATIVE, "from " + "." * node.level + (node.module or "") + " import", node, deferred)
        else:
            for alias in node.names:
                path = node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                self.path_hits(path, node, deferred, importing=True)

    def note_write(self, target, scope: _Scope, deferred: bool) -> None:
        """A function writing into something not its own (a module, a global) can change every check."""
        if not deferred:
            return
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if not isinstance(target, ast.Name):
            self.unit.escapes = True
            return
        owner = scope.lookup(target.id)
        # A top-level name, or a local one that names a module (import torch inside the function).
        if owner is None or owner.kind == "module" or owner.paths.get(target.id):
            self.unit.escapes = True


def _printable(text: str, limit: int = 80) -> str:
    """Student text made safe to print anywhere (escaped unless printable ASCII) and cut short."""
    shown = text if text.isascii() and text.isprintable() else ascii(text)[1:-1]
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def _links(node) -> Iterable[ast.AST]:
    while isinstance(node, ast.Attribute) or _constant_getattr(node):
        yield node
        node = node.value if isinstance(node, ast.Attribute) else node.args[0]


class _Notebook:
    """The notebook's units in run order, its top-level scope, and what each unit holds."""

    def __init__(self, trees: list[tuple[int, ast.Module]], allowed_modules: Collection[str]):
        self.allowed = tuple(allowed_modules)
        self.nodes = 0
        self.units: list[_Unit] = []
        for cell, tree in trees:
            cell_so_far_certain = True  # a statement that raises stops the rest of its cell
            for stmt in tree.body:
                bindings = _bindings([stmt])
                certain = cell_so_far_certain and _certain_statement(stmt)
                always = set()
                if certain and isinstance(stmt, _FUNCTIONS):
                    always = {stmt.name}
                elif certain and isinstance(stmt, ast.Assign):
                    always = {target.id for target in stmt.targets}
                self.units.append(_Unit(len(self.units), cell, stmt, bindings, always,
                                        bindings.names - always, bool(bindings.stars), _definition(stmt)))
                cell_so_far_certain = certain
        everything = _Bindings()
        for unit in self.units:
            everything.names |= unit.bindings.names
            everything.stars += unit.bindings.stars
            everything.aliases += unit.bindings.aliases
            for name, paths in unit.bindings.imports.items():
                everything.imports.setdefault(name, set()).update(paths)
        self.star_modules = [module for module in everything.stars if module and not module.startswith(".")]
        self.scope = _Scope("module", None, everything)
        self.follow_aliases(everything.aliases)
        self.stopped_in: int | None = None  # the cell where NODE_LIMIT stopped the reading
        for unit in self.units:
            try:
                _Reader(self, unit).read_unit()
            except _TooLarge:
                self.stopped_in = unit.cell
                break

    def follow_aliases(self, aliases: list) -> None:
        """Top-level aliases (t = torch; ag = t.autograd) point where what they name points."""
        reader = _Reader(self, None)
        for _ in range(ALIAS_PASSES):
            changed = False
            for name, value in aliases:
                paths = self.scope.paths.setdefault(name, set())
                new = reader.node_paths(value, self.scope) - paths
                if new and len(paths) < ALIAS_PATHS:
                    paths.update(sorted(new)[:ALIAS_PATHS - len(paths)])
                    changed = True
            if not changed:
                return

    def grader_reach(self, path: str) -> str | None:
        """The part of a dotted path inside the grader's package and outside the allowed modules, if any."""
        if path != GRADER_PACKAGE and not path.startswith(GRADER_PACKAGE + "."):
            return None
        if any(path == allowed or path.startswith(allowed + ".") for allowed in self.allowed):
            return None
        parts = path.split(".")
        for count in range(min(2, len(parts)), len(parts) + 1):  # at least the module: autograder.reference
            prefix = ".".join(parts[:count])
            if not any(allowed.startswith(prefix + ".") for allowed in self.allowed):
                return prefix
        return path


# --- attribution --------------------------------------------------------------------------------------

class _TooLarge(Exception):
    """The walk went past NODE_LIMIT."""


class _Tangled(Exception):
    """The attribution search went past SEARCH_LIMIT."""


class _Attribution:
    """Which units a function's code (or the notebook's top-level run) reaches, name by name, moment by moment."""

    def __init__(self, notebook: _Notebook):
        self.binders: dict[str, list[tuple[int, bool, _Unit]]] = {}
        for unit in notebook.units:
            for name in unit.always:
                self.binders.setdefault(name, []).append((unit.position, True, unit))
            for name in unit.maybe:
                self.binders.setdefault(name, []).append((unit.position, False, unit))
        self.positions = {name: [entry[0] for entry in entries] for name, entries in self.binders.items()}
        # A star import may rebind anything when it comes from the grader's package (or a relative
        # one); from elsewhere it is taken to supply only names that nothing else binds.
        self.stars = [unit for unit in notebook.units if unit.star]
        self.grader_stars = [unit for unit in self.stars if any(
            module.startswith(".") or module.split(".")[0] == GRADER_PACKAGE for module in unit.bindings.stars)]
        self.bound = notebook.scope.names | _BUILTIN_NAMES
        self.steps = 0

    def definers(self, name: str, before: float) -> list[_Unit]:
        """The units whose binding of name may be live just before position `before`.

        The last one that surely binds it, and every later one that may: a
        statement that can fail leaves the earlier binding in place.
        """
        entries = self.binders.get(name, ())
        found, floor = [], -1
        for index in range(bisect.bisect_left(self.positions.get(name, ()), before) - 1, -1, -1):
            position, surely, unit = entries[index]
            found.append(unit)
            if surely:
                floor = position
                break
        stars = self.grader_stars if name in self.bound else self.stars
        self.steps += len(stars)
        return found + [unit for unit in stars if floor < unit.position < before]

    def search(self, starts: list, stand_ins: Collection[str] = ()) -> Iterable[tuple[_Unit, tuple | None, list]]:
        """Breadth first from (unit, time, via, is_root) states; yields (unit, via, hits that count).

        via is the chain of names that led to the unit, as nested pairs
        (last name, via before it) so that long chains share their beginnings.

        A unit's immediate code runs at its own position; a function body runs
        at the time it is called (the time of the state), which for the
        checks is after every cell (_FINAL). A root is top-level code: what
        it defines counts only if its immediate code calls something.
        stand_ins are top-level names the grader replaces during the check:
        read then, they lead nowhere (read earlier, as a default argument
        is, they still lead to the student's code).
        """
        queue = deque(starts)
        seen = set()
        while queue:
            unit, time, via, root = queue.popleft()
            if (unit.position, time, root) in seen:
                continue
            seen.add((unit.position, time, root))
            runs_later = not root or unit.calls
            replaced = set(stand_ins) if time == _FINAL else set()
            yield unit, via, [hit for hit in unit.hits if (runs_later or not hit.deferred)
                              and not (hit.deferred and hit.name in replaced)]
            reads = [(name, unit.position) for name in unit.reads_now]
            if runs_later:
                reads += [(name, unit.position if root else time) for name in unit.reads_later
                          if name not in replaced]
            for name, when in reads:
                for definer in self.definers(name, when):
                    queue.append((definer, when, (name, via), False))
                    self.steps += 1
            self.steps += 1
            if self.steps > SEARCH_LIMIT:
                raise _Tangled


_CONSEQUENCES = {
    "answer-key": "this function earns no points",
    "review": "a person will read it before the grade is final",
    "autograd": "the task is to derive the gradient by hand, so this function earns no points",
}
_NOTEBOOK_CONSEQUENCES = {
    "answer-key": "it can change every check, so no function earns points",
    "review": "it can change every check, so a person will read the notebook before the grade is final",
}
_PROBLEMS = {
    "too-deep": "is nested too deeply for the grader to read",
    "too-large": "takes the notebook past the amount of code the grader reads",
    "unreadable": "cannot be read as Python ({detail})",
}


def _through(via: tuple | None) -> str:
    """", through helper then inner," for the names that led from a function to a finding."""
    names = []
    while via is not None:
        name, via = via
        names.append(name)
    names.reverse()
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} more"]
    return f", through {' then '.join(names)}," if names else ""


# What one finding shows of all it found.
FOUND_SHOWN = 4


@dataclass
class _Entry:
    subject: str
    where: str
    found: list


class _Report:
    """The findings: one per function (None first) and rule, listing all it found, located at the first."""

    def __init__(self, functions: Sequence[str], gradient_functions: Collection[str],
                 stand_ins: Mapping[str, Collection[str]] | None = None):
        self.functions = list(dict.fromkeys([*functions, *gradient_functions]))
        self.stand_ins = dict(stand_ins or {})
        self.gradient_functions = set(gradient_functions)
        self.problems: list[Finding] = []
        self.entries: dict[tuple[str | None, str], tuple[_Rule, _Entry]] = {}
        self.notes: list[Note] = []

    def add_problem(self, problem: str, detail: str, where: str) -> None:
        if all(finding.found != problem for finding in self.problems):
            phrase = _PROBLEMS[problem].format(detail=detail)
            self.problems.append(Finding("review", None, f"{where.capitalize()} {phrase}; a person will read the "
                                                         f"notebook before the grade is final.", where, problem))

    def add_hit(self, function: str | None, subject: Callable[[], str], unit: _Unit, hit: _Hit) -> None:
        """Counts a hit for a function (None: the notebook); subject() words who did it, for the first hit."""
        if hit.rule.kind == "autograd" and function not in self.gradient_functions:
            return  # autograd outside the gradient functions costs nothing
        key = (function, hit.rule.group)
        if key not in self.entries:
            self.entries[key] = (hit.rule, _Entry(subject(), f"cell {unit.cell}, line {hit.line}", []))
        found = self.entries[key][1].found
        if hit.found not in found:
            found.append(hit.found)

    def findings(self) -> list[Finding]:
        findings = list(self.problems)
        for (function, _), (rule, entry) in self.entries.items():
            found = ", ".join(entry.found[:FOUND_SHOWN]) + (", ..." if len(entry.found) > FOUND_SHOWN else "")
            consequence = (_CONSEQUENCES if function else _NOTEBOOK_CONSEQUENCES)[rule.kind]
            reason = f"{entry.subject} {rule.phrase.format(found=found)}; {consequence}."
            findings.append(Finding(rule.kind, function, reason, entry.where, found))
        return findings

    def attribute(self, notebook: _Notebook) -> None:
        attribution = _Attribution(notebook)
        top_level = [(unit, unit.position, None, True) for unit in notebook.units if not unit.inert]
        for unit, via, hits in attribution.search(top_level):
            for hit in hits:
                self.add_hit(None, lambda: "Code at the notebook's top level" + _through(via), unit, hit)
        for writer in (unit for unit in notebook.units if unit.escapes):
            for unit, via, hits in attribution.search([(writer, _FINAL, None, False)]):
                for hit in hits:
                    self.add_hit(None, lambda: f"{writer.label()}, which writes to objects outside itself"
                                               f"{_through(via) or ','}", unit, hit)
        for function in self.functions:
            starts = [(unit, _FINAL, None, False) for unit in attribution.definers(function, _FINAL)]
            for unit, via, hits in attribution.search(starts, self.stand_ins.get(function, ())):
                for hit in hits:
                    self.add_hit(function, lambda: function + _through(via), unit, hit)

    def attribute_everywhere(self, notebook: _Notebook) -> None:
        """Too tangled to follow: every finding counts for every function it could concern."""
        self.entries.clear()
        self.notes.append(Note("tangled", "", "the notebook's names lead through more code than the grader "
                                              "follows; every finding counts for every function"))
        for unit in notebook.units:
            for hit in unit.hits:
                self.add_hit(None, lambda: "Code in this notebook", unit, hit)
                for function in self.functions:
                    if hit.rule.kind == "autograd":
                        self.add_hit(function, lambda: f"{function} (in a notebook too tangled to follow)", unit, hit)


def analyse(cells: list[str], functions: Sequence[str], gradient_functions: Collection[str],
            allowed_modules: Collection[str] = ("autograder.data",),
            stand_ins: Mapping[str, Collection[str]] | None = None) -> Analysis:
    """What the grader must act on in a notebook's code, by student function.

    cells: the code cells except test cells, in order (``notebook.answer_cells``);
    findings name them "cell 1", "cell 2", ... in that order, as the worker does.
    functions: the student functions; gradient_functions: those of them that
    must not use autograd (autograd elsewhere costs nothing). allowed_modules:
    what of the grader's package the release may use, each a module or a
    single name in one ("autograder.checks.check"), with everything below it.
    stand_ins: {function: names the grader replaces while checking it} (sgd
    runs with the reference's dC_dm and dC_db): what those names hold when
    the check runs is not the function's code.
    Never raises: whatever cannot be read is a notebook-wide review finding.
    """
    report = _Report(functions, gradient_functions, stand_ins)
    try:
        trees, problems, report.notes = _parse(cells)
        notebook = _Notebook(trees, allowed_modules)
        if notebook.stopped_in is not None:
            problems.append(("too-large", "", f"cell {notebook.stopped_in}"))
        for problem, detail, where in problems:
            report.add_problem(problem, detail, where)
        if notebook.stopped_in is not None:
            report.attribute_everywhere(notebook)  # what was left unread may bind or call anything
        else:
            try:
                report.attribute(notebook)
            except _Tangled:
                report.attribute_everywhere(notebook)
        return Analysis(report.findings(), report.notes)
    except Exception as error:  # every notebook must get an answer: what breaks the reader needs a person
        unread = Finding("review", None, "The grader could not read this notebook's code; a person will read it "
                                         "before the grade is final.", "", "unread")
        return Analysis([unread], [*report.notes, Note("error", "", _printable(f"{type(error).__name__}: {error}",
                                                                              200))])
