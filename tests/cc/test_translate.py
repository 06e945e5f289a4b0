"""The C translator: the target's integer rules, control flow, memory, bad input."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_shell

HEAD = "#include <linux/module.h>\n#include <linux/slab.h>\n#include <linux/string.h>\n"
TAIL = "\nmodule_init(t_init);\nMODULE_LICENSE(\"GPL\");\n"


def load(tmp_path, body: str, machine: str = "x86_64", name: str = "t", args: str = ""):
    """insmod a C module made of body; (result, dmesg messages of the module)."""
    f = tmp_path / f"{name}.c"
    f.write_text(HEAD + body + TAIL)
    sh = make_shell(machine)
    r = sh.execute(f"insmod {f} {args}")
    msgs = [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in sh.execute("dmesg").out.splitlines()]
    return r, [m[4:] for m in msgs if m.startswith("tt: ")], sh


def wrap(bits: int, signed: bool, v: int) -> int:
    """C's conversion to an integer type of `bits` bits."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def c_div(a: int, b: int) -> int:
    """C99 division: truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# (C expression printed with %lld after a cast to long long, the expected value from the rules)
def table(machine: str) -> list[tuple[str, int]]:
    """Expressions and their values on a target (long and pointers 64 or 32 bits; char
    signed on x86, unsigned on ARM)."""
    lb = 64 if machine == "x86_64" else 32
    char_signed = machine != "rpi2"
    return [
        ("(unsigned char)300", 300 & 0xff),
        ("(signed char)200", wrap(8, True, 200)),
        ("(char)200", wrap(8, char_signed, 200)),
        ("(short)40000", wrap(16, True, 40000)),
        ("-7 / 2", c_div(-7, 2)),
        ("-7 % 2", -7 - 2 * c_div(-7, 2)),
        ("7 / -2", c_div(7, -2)),
        ("(int)0x80000000u", wrap(32, True, 0x80000000)),
        ("1u - 2", wrap(32, False, -1)),
        ("0xffffffffu + 1", 0),
        ("-1 < 1u", 0),
        ("-1L < 1u", 1 if lb == 64 else 0),
        ("(long)(unsigned long)-1 >> 1", -1),
        ("(unsigned long)-1 >> 1", wrap(lb, False, -1) >> 1),
        ("sizeof(long)", lb // 8),
        ("sizeof(void *)", lb // 8),
        ("sizeof(long long)", 8),
        ("(unsigned short)65535 + 1", 65536),
        ("(unsigned char)255 * (unsigned char)255", 65025),
        ("1 << 31", wrap(32, True, 1 << 31)),
        ("~0u", 0xffffffff),
        ("-(unsigned int)1", 0xffffffff),
        ("(5 > 3) + (2 == 2) + !0", 3),
        ("(3, 4)", 4),
        ("0 ? 1 : 2", 2),
        ("(int)(2147483647 + 1u)", wrap(32, True, 1 << 31)),
        ("(unsigned long long)-1 / 3", (2**64 - 1) // 3),
        ("sizeof(struct { char c; long long x; })", 12 if machine == "i386" else 16),
    ]


@pytest.mark.parametrize("machine", ["x86_64", "i386", "rpi2"])
def test_integer_rules_of_the_target(tmp_path, machine):
    rows = table(machine)
    body = "static int __init t_init(void)\n{\n" + "".join(
        f'\tpr_info("tt: %d %lld\\n", {i}, (long long)({e}));\n' for i, (e, _v) in enumerate(rows)) + \
        "\treturn 0;\n}\n"
    r, msgs, _sh = load(tmp_path, body, machine)
    assert r.status == 0, r.err
    got = {int(m.split()[0]): int(m.split()[1]) for m in msgs}
    for i, (expr, want) in enumerate(rows):
        assert got[i] == want, f"{expr} on {machine}: {got[i]} != {want}"


def test_control_flow_goto_switch_loops(tmp_path):
    body = r"""
static int classify(int v)
{
	switch (v) {
	case 0:
		return 100;
	case 1:
	case 2:
		v += 10;
		/* fall through */
	case 3:
		v += 100;
		break;
	default:
		v = -1;
	}
	return v;
}

static int find(int *a, int n, int x)
{
	int i, j = 0;

	for (i = 0; i < n; i++) {
		if (a[i] < 0)
			continue;
		for (j = 0; j < 3; j++)
			if (a[i] == x + j)
				goto found;
	}
	return -1;
found:
	return i * 10 + j;
}

static int __init t_init(void)
{
	int a[6] = { 5, -1, 7, [4] = 9 };
	int i = 0, sum = 0;
	char *buf;

	pr_info("tt: switch %d %d %d %d %d\n", classify(0), classify(1), classify(2), classify(3), classify(7));
	pr_info("tt: find %d %d %d\n", find(a, 6, 7), find(a, 6, 8), find(a, 6, 100));
	do {
		sum += i;
		if (i == 2) { i += 2; continue; }
		i++;
	} while (i < 6);
	pr_info("tt: do %d %d\n", sum, i);
	while (1) {
		if (++i > 9)
			break;
	}
	pr_info("tt: while %d %d %d\n", i, a[3], a[4]);
	buf = kmalloc(16, GFP_KERNEL);
	if (!buf)
		goto fail;
	snprintf(buf, 16, "%s-%d", "ab", 42);
	pr_info("tt: snprintf %s %zu\n", buf, strlen(buf));
	kfree(buf);
	return 0;
fail:
	return -ENOMEM;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    assert msgs == ["switch 100 111 112 103 -1", "find 20 41 -1", "do 12 6", "while 10 0 9",
                    "snprintf ab-42 5"]


def test_structs_pointers_and_address_taken_locals(tmp_path):
    body = r"""
struct pt { int x; int y; };
struct box { struct pt a, b; char name[8]; };

static void swap(int *p, int *q) { int t = *p; *p = *q; *q = t; }
static int area(struct box b) { return (b.b.x - b.a.x) * (b.b.y - b.a.y); }

static int __init t_init(void)
{
	int u = 1, v = 2;
	struct box b = { { 1, 2 }, { 4, 6 }, "box" };
	struct box c;
	struct pt *pp = &b.a;
	int *arr = kcalloc(4, sizeof(int), GFP_KERNEL);
	int *end = arr + 4;

	swap(&u, &v);
	c = b;
	c.a.x = 0;
	pp[1].y = 10;
	arr[2] = 5;
	*(arr + 3) = 7;
	pr_info("tt: %d %d %d %d %s %d\n", u, v, area(b), area(c), c.name, (int)(end - arr));
	pr_info("tt: %d %d %zu %zu\n", arr[2] + arr[3], *arr, sizeof(struct box), sizeof b.name);
	kfree(arr);
	return 0;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    assert msgs == ["2 1 24 16 box 4", "12 0 24 8"]


def test_function_pointers_and_ctor_called_by_slub(tmp_path):
    body = r"""
static unsigned int calls;
static void ctor(void *p) { calls++; *(int *)p = 7; }
static int twice(int x) { return 2 * x; }
static int (*op)(int) = twice;
static struct kmem_cache *c;
struct ops { const char *name; int (*fn)(int); };
static struct ops table[2] = { { "double", twice }, { .fn = NULL, .name = "none" } };

static int __init t_init(void)
{
	int *o;

	c = kmem_cache_create("t_cache", 32, 0, 0, ctor);
	o = kmem_cache_alloc(c, GFP_KERNEL);
	pr_info("tt: %d %d %s\n", *o, op(21), calls > 0 ? "ctor" : "none");
	pr_info("tt: %pS\n", op);
	pr_info("tt: %s %d %s %d\n", table[0].name, table[0].fn(5), table[1].name, table[1].fn == NULL);
	kmem_cache_free(c, o);
	kmem_cache_destroy(c);
	return 0;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    assert msgs[0] == "7 42 ctor"
    assert re.fullmatch(r"twice\+0x0/0x[0-9a-f]+ \[t\]", msgs[1])
    assert msgs[2] == "double 10 none 1"


def test_a_null_dereference_oopses_at_the_c_line(tmp_path):
    body = "static int __init t_init(void)\n{\n\tint *p = NULL;\n\n\treturn *p;\n}\n"
    r, _msgs, sh = load(tmp_path, body)
    assert (r.status, r.err) == (137, "Killed\n")        # as for a Python module: insmod dies
    dmesg = sh.execute("dmesg").out
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000000" in dmesg
    assert re.search(r"RIP: 0010:t_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[t\]", dmesg)


def test_static_and_global_memory_count_in_the_module(tmp_path):
    sizes = []
    for n in (1, 20000):
        body = (f"static char big[{n}];\nstatic int __init t_init(void)\n"
                f"{{\n\tbig[{n - 1}] = 1;\n\treturn 0;\n}}\n")
        r, _msgs, sh = load(tmp_path, body)
        assert r.status == 0, r.err
        sizes.append(int(sh.execute("lsmod").out.splitlines()[1].split()[1]))
    assert sizes[1] - sizes[0] >= 20000


@pytest.mark.parametrize("body, message", [
    ("int t_init(void) { return undefined_fn(); }", "error: call to undeclared function 'undefined_fn'"),
    ("int t_init(void) { asm(\"nop\"); return 0; }", "inline assembly is not supported by kmsim"),
    ("int t_init(void) { return ({ 1; }); }", "statement expressions"),
    ("int t_init(void) { float f = 1; return f; }", "floating point"),
    ("int missing(void);\nint t_init(void) { return missing(); }", "modpost: \"missing\" undefined!"),
    ("this is not C at all", "error:"),
])
def test_bad_input_is_a_build_error_naming_the_line(tmp_path, body, message):
    r, _msgs, _sh = load(tmp_path, body)
    assert r.status == 1
    assert message in r.err
    assert re.search(r"t\.c:\d+:\d+: (fatal )?error: ", r.err)
    assert r.err.rstrip().endswith("Invalid module format")
    assert "Traceback" not in r.err


def test_a_missing_header_lists_the_headers_kmsim_has(tmp_path):
    f = tmp_path / "t.c"
    f.write_text("#include <linux/netdevice.h>\n")
    r = make_shell().execute(f"insmod {f}")
    assert r.status == 1
    assert "fatal error: linux/netdevice.h: No such file or directory" in r.err
    assert re.search(r"^kmsim: the headers kmsim has are .*linux/slab\.h", r.err, re.M)


def test_warnings_are_shown_and_the_load_goes_on(tmp_path):
    body = "static int __init t_init(void)\n{\n\tint x;\n\n\tpr_info(\"tt: %d\\n\", x);\n\treturn 0;\n}\n"
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0
    assert "warning: variable 'x' is uninitialized" in r.err
    assert msgs == ["0"]


def test_module_param_in_c_reaches_the_c_variable(tmp_path):
    body = ("static int count = 3;\nmodule_param(count, int, 0644);\n"
            "static int __init t_init(void)\n{\n\tpr_info(\"tt: %d\\n\", count * 2);\n\treturn 0;\n}\n")
    r, msgs, sh = load(tmp_path, body, args="count=21")
    assert r.status == 0, r.err
    assert msgs == ["42"]
    assert sh.execute("cat /sys/module/t/parameters/count").out.strip() == "21"


def test_unions_anonymous_members_2d_arrays_recursion(tmp_path):
    body = r"""
struct s { int kind; union { int i; char c[4]; }; struct { short a, b; } pair; };
static int grid[3][4];

static int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }

static int pick(int v)
{
	switch (v) {
	default:
		return -1;
	case 1:
		return 10;
	}
}

static int __init t_init(void)
{
	struct s x = { .kind = 2, .pair = { 3, 4 } };
	int i, j, total = 0;
	unsigned char uc = 250;
	long *lp;
	void *vp;

	x.i = 0x41424344;
	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++)
			grid[i][j] = i * 10 + j;
	for (i = 0; i < 3; i++)
		total += grid[i][3];
	uc += 10;
	vp = kmalloc(8, GFP_KERNEL);
	lp = vp;
	*lp = -5;
	pr_info("tt: %d %c %d %d %d %d %d %u %ld %d\n", x.kind, x.c[0], x.pair.a + x.pair.b,
		total, fact(10), pick(1), pick(5), uc, lp[0], (int)sizeof(x));
	kfree(vp);
	return 0;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    assert msgs == ["2 D 7 39 3628800 10 -1 4 -5 12"]


def test_implicit_declaration_is_an_error_as_kbuild_makes_it(tmp_path):
    r, _msgs, _sh = load(tmp_path, "static int __init t_init(void)\n{\n\treturn kmaloc(3);\n}\n")
    assert r.status == 1
    lines = r.err.splitlines()
    assert lines[0].endswith("[-Werror=implicit-function-declaration]")
    assert re.match(r"t\.c:6:9: error: call to undeclared function 'kmaloc'", lines[0].split("/")[-1])
    assert lines[1] == "    6 | \treturn kmaloc(3);"
    assert lines[2] == "      | \t       ^"
    assert lines[-1].startswith("insmod: ERROR: could not insert module ") and \
        lines[-1].endswith("t.c: Invalid module format")


def test_small_statics_side_by_side_are_clean_under_kasan(tmp_path):
    """KASAN's red zone after a static starts at its size rounded up to 8: the loader leaves
    room for it, so a 4-byte or a 5-byte static does not sit in the red zone before it."""
    body = r"""
static unsigned int a;
static char s[5] = "abcd";
static unsigned int b;

static int __init t_init(void)
{
	a = 1;
	b = 2;
	pr_info("tt: %u %s %u\n", a, s, b);
	return 0;
}
"""
    f = tmp_path / "t.c"
    f.write_text(HEAD + body + TAIL)
    sh = make_shell(append="kasan")
    assert sh.execute(f"insmod {f}").status == 0
    out = sh.execute("dmesg").out
    assert "tt: 1 abcd 2" in out
    assert "BUG: KASAN" not in out


def test_a_students_list_of_named_items(tmp_path):
    """list.h with an explicit struct type (list_first_entry_or_null), strscpy, snprintf
    with sizeof, a pointer to a pointer, pointer difference."""
    body = r"""
#include <linux/list.h>

struct item {
	char name[16];
	int n;
	struct list_head link;
};

static LIST_HEAD(items);

static int add(const char *name, int n)
{
	struct item *it = kzalloc(sizeof(*it), GFP_KERNEL);

	if (!it)
		return -ENOMEM;
	strscpy(it->name, name, sizeof(it->name));
	it->n = n;
	list_add_tail(&it->link, &items);
	return 0;
}

static void push_front(int **pp, int *arr, int i) { *pp = &arr[i]; }

static int __init t_init(void)
{
	struct item *it;
	char buf[32];
	int arr[4] = { 1, 2, 3, 4 }, *p = NULL;
	int total = 0;

	add("alpha", 1);
	add("beta", 2);
	list_for_each_entry(it, &items, link) {
		snprintf(buf, sizeof(buf), "%s=%d", it->name, it->n);
		pr_info("tt: %s (%zu)\n", buf, strlen(buf));
		total += it->n;
	}
	push_front(&p, arr, 2);
	pr_info("tt: total %d *p %d p-arr %d\n", total, *p, (int)(p - arr));
	while ((it = list_first_entry_or_null(&items, struct item, link))) {
		list_del(&it->link);
		kfree(it);
	}
	pr_info("tt: empty %d\n", list_empty(&items));
	return 0;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    assert msgs == ["alpha=1 (7)", "beta=2 (6)", "total 3 *p 3 p-arr 2", "empty 1"]


def test_sleeps_and_jiffies_on_the_simulated_clock(tmp_path):
    body = r"""
#include <linux/delay.h>

static int __init t_init(void)
{
	unsigned long j0 = jiffies;

	msleep(40);
	cond_resched();
	pr_info("tt: %lu %d\n", jiffies - j0, HZ);
	return 0;
}
"""
    r, msgs, _sh = load(tmp_path, body)
    assert r.status == 0, r.err
    ticks, hz = (int(x) for x in msgs[0].split())
    assert hz == 250 and ticks >= 10          # msleep(40) at HZ=250: at least 10 jiffies
