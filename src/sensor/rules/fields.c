/* The fields the sensor supplies to Falco conditions, with their types, and
 * the data sources it lacks, whose fields load but evaluate unset. */
#include <string.h>

#include "sensor/rules/cond.h"

#define S COND_FT_STRING
#define N COND_FT_NUMBER
#define B COND_FT_BOOL
#define L COND_FT_LIST
#define A COND_FT_ANY

/* Exact names first, then families (prefixes); lookups try both. */
static const struct cond_field fields[] = {
	{ "evt.type", S, false, false, false },
	{ "evt.num", N, false, false, false },
	{ "evt.time", N, false, false, false },
	{ "evt.dir", S, false, false, false },
	{ "evt.res", S, false, false, false },
	{ "evt.rawres", N, false, false, false },
	{ "evt.failed", B, false, false, false },
	{ "evt.is_open_read", B, false, false, false },
	{ "evt.is_open_write", B, false, false, false },
	{ "evt.is_open_exec", B, false, false, false },
	{ "evt.hostname", S, false, false, false },
	{ "evt.args", S, false, false, false },
	{ "evt.buffer", S, false, false, false },
	{ "evt.arg", A, false, true, false },
	{ "evt.rawarg", A, false, true, false },
	{ "proc.pid", N, false, false, false },
	{ "proc.ppid", N, false, false, false },
	{ "proc.vpid", N, false, false, false },
	{ "proc.sid", N, false, false, false },
	{ "proc.vpgid", N, false, false, false },
	{ "proc.name", S, false, false, false },
	{ "proc.pname", S, false, false, false },
	{ "proc.aname", L, false, true, false },
	{ "proc.apid", L, false, true, false },
	{ "proc.exe", S, false, false, false },
	{ "proc.pexe", S, false, false, false },
	{ "proc.aexe", L, false, true, false },
	{ "proc.exepath", S, false, false, false },
	{ "proc.pexepath", S, false, false, false },
	{ "proc.aexepath", L, false, true, false },
	{ "proc.cmdline", S, false, false, false },
	{ "proc.pcmdline", S, false, false, false },
	{ "proc.args", S, false, false, false },
	{ "proc.cwd", S, false, false, false },
	{ "proc.tty", N, false, false, false },
	{ "proc.sname", S, false, false, false },
	{ "proc.env", S, false, true, false },
	{ "proc.duration", N, false, false, false },
	{ "proc.ppid.duration", N, false, false, false },
	{ "proc.vpgid.name", S, false, false, false },
	{ "proc.vpgid.exe", S, false, false, false },
	{ "proc.is_vpgid_leader", B, false, false, false },
	{ "proc.is_exe_upper_layer", B, false, false, false },
	{ "proc.is_exe_from_memfd", B, false, false, false },
	{ "proc.is_exe_writable", B, false, false, false },
	{ "proc.exe_ino.mtime", N, false, false, false },
	{ "proc.exe_ino.ctime", N, false, false, false },
	{ "proc.exe_ino.ctime_duration_proc_start", N, false, false, false },
	{ "thread.tid", N, false, false, false },
	{ "thread.vtid", N, false, false, false },
	{ "thread.cap_permitted", S, false, false, false },
	{ "thread.cap_effective", S, false, false, false },
	{ "thread.cap_inheritable", S, false, false, false },
	{ "fd.num", N, false, false, false },
	{ "fd.type", S, false, false, false },
	{ "fd.typechar", S, false, false, false },
	{ "fd.types", L, false, false, false },
	{ "fd.name", S, false, false, false },
	{ "fd.nameraw", S, false, false, false },
	{ "fd.name_changed", B, false, false, false },
	{ "fd.directory", S, false, false, false },
	{ "fd.filename", S, false, false, false },
	{ "fd.l4proto", S, false, false, false },
	{ "fd.sockfamily", S, false, false, false },
	{ "fd.connected", B, false, false, false },
	{ "fd.ip", S, false, false, false },
	{ "fd.sip", S, false, false, false },
	{ "fd.cip", S, false, false, false },
	{ "fd.rip", S, false, false, false },
	{ "fd.lip", S, false, false, false },
	{ "fd.sip.name", S, false, false, false },
	{ "fd.cip.name", S, false, false, false },
	{ "fd.rip.name", S, false, false, false },
	{ "fd.lip.name", S, false, false, false },
	{ "fd.net", S, false, false, false },
	{ "fd.snet", S, false, false, false },
	{ "fd.cnet", S, false, false, false },
	{ "fd.rnet", S, false, false, false },
	{ "fd.lnet", S, false, false, false },
	{ "fd.port", N, false, false, false },
	{ "fd.sport", N, false, false, false },
	{ "fd.cport", N, false, false, false },
	{ "fd.rport", N, false, false, false },
	{ "fd.lport", N, false, false, false },
	{ "fs.path.name", S, false, false, false },
	{ "fs.path.source", S, false, false, false },
	{ "fs.path.target", S, false, false, false },
	{ "user.uid", N, false, false, false },
	{ "user.name", S, false, false, false },
	{ "user.loginuid", N, false, false, false },
	{ "user.loginname", S, false, false, false },
	{ "user.homedir", S, false, false, false },
	{ "user.shell", S, false, false, false },
	{ "group.gid", N, false, false, false },
	{ "group.name", S, false, false, false },
	{ "container.id", S, false, false, false },
	{ "container.name", S, false, false, false },
	{ "container.image", S, false, false, false },
	{ "container.image.repository", S, false, false, false },
	{ "container.image.tag", S, false, false, false },
	{ "container.image.id", S, false, false, false },
	{ "container.privileged", B, false, false, false },
	{ "container.start_ts", N, false, false, false },
	{ "container.duration", N, false, false, false },
	{ "container.type", S, false, false, false },
	/* Families: evt.arg.NAME reads a parsed syscall argument. */
	{ "evt.arg.", A, true, false, false },
	{ "evt.rawarg.", A, true, false, false },
	/* Sources the sensor does not have. */
	{ "k8s.", S, true, true, true },
	{ "k8smeta.", S, true, true, true },
	{ "ka.", S, true, true, true },
	{ "jevt.", S, true, true, true },
	{ "ct.", S, true, true, true },
	{ "okta.", S, true, true, true },
	{ "github.", S, true, true, true },
	{ "gcp.", S, true, true, true },
	{ "json.", S, true, true, true },
};

const struct cond_field *cond_field_find(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(fields); i++) {
		const struct cond_field *f = &fields[i];

		if (f->family) {
			size_t n = strlen(f->name);

			if (!strncmp(name, f->name, n) && name[n] != '\0')
				return f;
		} else if (!strcmp(name, f->name)) {
			return f;
		}
	}
	return NULL;
}

const char *cond_ftype_name(enum cond_ftype type)
{
	switch (type) {
	case COND_FT_STRING: return "string";
	case COND_FT_NUMBER: return "number";
	case COND_FT_BOOL: return "boolean";
	case COND_FT_LIST: return "list";
	case COND_FT_ANY: return "any";
	}
	return "?";
}

const struct cond_field *cond_field_table(size_t *ret_count)
{
	*ret_count = WD_ARRAY_LEN(fields);
	return fields;
}
