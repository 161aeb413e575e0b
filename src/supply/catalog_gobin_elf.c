/* Finding the Go build information in an ELF file (System V ABI, "ELF
 * header", "Program header" and "Sections"). As Go's debug/buildinfo does,
 * the blob is searched in the .go.buildinfo section, or in the first
 * writable loaded segment of a file without section headers. */
#include <stdlib.h>
#include <string.h>

#include "supply/gobin.h"

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define SHT_NOBITS 8
#define SHN_XINDEX 0xffff

#define ELF32_HEADER_LEN 52
#define ELF64_HEADER_LEN 64
#define ELF32_PHDR_LEN 32
#define ELF64_PHDR_LEN 56
#define ELF32_SHDR_LEN 40
#define ELF64_SHDR_LEN 64

/* Program headers kept, at most; the field is 16 bits wide. */
#define MAX_SEGMENTS 65535

struct segment {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	uint32_t flags;
};

struct elf_file {
	const struct gobin_reader *reader;
	struct elf_header header;
	struct segment *loads;  /* PT_LOAD segments */
	size_t load_count;
};

static uint16_t get16(const struct elf_header *h, const uint8_t *p)
{
	unsigned high = h->big_endian ? p[0] : p[1], low = h->big_endian ? p[1] : p[0];

	return (uint16_t)(high << 8 | low);
}

static uint32_t get32(const struct elf_header *h, const uint8_t *p)
{
	if (h->big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t get64(const struct elf_header *h, const uint8_t *p)
{
	uint64_t high = get32(h, h->big_endian ? p : p + 4);
	uint64_t low = get32(h, h->big_endian ? p + 4 : p);

	return high << 32 | low;
}

/* A word: 64 bits in ELFCLASS64 files, 32 bits in ELFCLASS32 ones. */
static uint64_t get_word(const struct elf_header *h, const uint8_t *p)
{
	return h->is64 ? get64(h, p) : get32(h, p);
}

int elf_header_parse(const uint8_t *bytes, size_t len, struct elf_header *ret_header,
	struct wd_error *err)
{
	struct elf_header h = { 0 };
	const uint8_t *p = bytes;

	*ret_header = h;
	if (len < 16 || memcmp(bytes, "\x7f" "ELF", 4) != 0)
		return wd_error_set(err, WD_ENOTFOUND, "not an ELF file");
	if (bytes[4] != 1 && bytes[4] != 2)
		return wd_error_set(err, WD_EINVAL, "unknown ELF class %u", bytes[4]);
	if (bytes[5] != 1 && bytes[5] != 2)
		return wd_error_set(err, WD_EINVAL, "unknown ELF byte order %u", bytes[5]);
	h.is64 = bytes[4] == 2;
	h.big_endian = bytes[5] == 2;
	if (len < (h.is64 ? ELF64_HEADER_LEN : ELF32_HEADER_LEN))
		return wd_error_set(err, WD_EINVAL, "truncated ELF header (%zu bytes)", len);

	h.type = get16(&h, p + 16);
	h.machine = get16(&h, p + 18);
	if (h.is64) {
		h.phoff = get64(&h, p + 32);
		h.shoff = get64(&h, p + 40);
		p += 54;
	} else {
		h.phoff = get32(&h, p + 28);
		h.shoff = get32(&h, p + 32);
		p += 42;
	}
	h.phentsize = get16(&h, p);
	h.phnum = get16(&h, p + 2);
	h.shentsize = get16(&h, p + 4);
	h.shnum = get16(&h, p + 6);
	h.shstrndx = get16(&h, p + 8);
	*ret_header = h;
	return 0;
}

const char *elf_arch_name(const struct elf_header *h)
{
	switch (h->machine) {
	case 3:
		return "386";
	case 8:
		return h->is64 ? (h->big_endian ? "mips64" : "mips64le") :
				 (h->big_endian ? "mips" : "mipsle");
	case 21:
		return h->big_endian ? "ppc64" : "ppc64le";
	case 22:
		return "s390x";
	case 40:
		return "arm";
	case 62:
		return "amd64";
	case 183:
		return "arm64";
	case 243:
		return "riscv64";
	case 258:
		return "loong64";
	}
	return NULL;
}

/* Reads count fixed-size entries at offset into a malloc'd array. */
static int read_table(const struct elf_file *elf, uint64_t offset, size_t count, size_t size,
	uint8_t **ret_table, const char *what, struct wd_error *err)
{
	size_t bytes;
	uint8_t *table;
	int rc;

	*ret_table = NULL;
	if (__builtin_mul_overflow(count, size, &bytes) || bytes > elf->reader->size ||
	    offset > elf->reader->size - bytes)
		return wd_error_set(err, WD_EINVAL, "%s table (%zu entries at offset %llu) is "
			"outside the file", what, count, (unsigned long long)offset);
	table = malloc(bytes ? bytes : 1);
	if (!table)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the %s table", what);
	rc = elf->reader->read_at(elf->reader->ctx, offset, table, bytes);
	if (rc < 0) {
		free(table);
		return wd_error_set(err, rc, "reading the %s table failed", what);
	}
	*ret_table = table;
	return 0;
}

static int read_segments(struct elf_file *elf, struct wd_error *err)
{
	const struct elf_header *h = &elf->header;
	size_t entry_len = h->is64 ? ELF64_PHDR_LEN : ELF32_PHDR_LEN;
	uint8_t *table = NULL;
	int rc = 0;

	if (h->phoff == 0 || h->phnum == 0)
		return 0;
	if (h->phentsize < entry_len)
		return wd_error_set(err, WD_EINVAL, "invalid program header size %u", h->phentsize);
	WD_TRY(read_table(elf, h->phoff, h->phnum, h->phentsize, &table, "program header", err));

	elf->loads = calloc(h->phnum, sizeof(*elf->loads));
	WD_ENSURE(elf->loads, wd_error_set(err, WD_ENOMEM, "out of memory for segments"));
	for (size_t i = 0; i < h->phnum && i < MAX_SEGMENTS; i++) {
		const uint8_t *p = table + i * h->phentsize;
		struct segment *s = &elf->loads[elf->load_count];

		if (get32(h, p) != PT_LOAD)
			continue;
		if (h->is64) {
			s->flags = get32(h, p + 4);
			s->offset = get64(h, p + 8);
			s->vaddr = get64(h, p + 16);
			s->filesz = get64(h, p + 32);
		} else {
			s->offset = get32(h, p + 4);
			s->vaddr = get32(h, p + 8);
			s->filesz = get32(h, p + 16);
			s->flags = get32(h, p + 24);
		}
		elf->load_count++;
	}
out:
	free(table);
	return rc;
}

/* Reads len bytes at the virtual address addr from the loaded segment that
 * contains all of them. */
static int read_addr(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct elf_file *elf = ctx;

	for (size_t i = 0; i < elf->load_count; i++) {
		const struct segment *s = &elf->loads[i];

		if (addr < s->vaddr || addr - s->vaddr >= s->filesz ||
		    len > s->filesz - (addr - s->vaddr))
			continue;
		if (s->offset > UINT64_MAX - (addr - s->vaddr))
			return WD_EINVAL;
		return elf->reader->read_at(elf->reader->ctx, s->offset + (addr - s->vaddr), buf, len);
	}
	return WD_EINVAL;
}

struct region {
	uint64_t offset;
	uint64_t size;
};

/* Finds the .go.buildinfo section. WD_ENOTFOUND when the file has section
 * headers but no such section; *ret_has_sections is false when it has none. */
static int find_buildinfo_section(const struct elf_file *elf, struct region *ret_region,
	bool *ret_has_sections, struct wd_error *err)
{
	const struct elf_header *h = &elf->header;
	size_t entry_len = h->is64 ? ELF64_SHDR_LEN : ELF32_SHDR_LEN;
	uint8_t *table = NULL, *names = NULL;
	const uint8_t *names_header;
	uint64_t names_offset, names_size;
	size_t count = h->shnum, names_index = h->shstrndx;
	int rc = 0;

	*ret_has_sections = false;
	if (h->shoff == 0)
		return WD_ENOTFOUND;
	if (h->shentsize < entry_len)
		return wd_error_set(err, WD_EINVAL, "invalid section header size %u", h->shentsize);
	if (count == 0 || names_index == SHN_XINDEX) {
		/* Extended numbering: section 0 stores the real count in sh_size
		 * and the name table's index in sh_link. */
		WD_TRY(read_table(elf, h->shoff, 1, h->shentsize, &table, "section header", err));
		if (count == 0)
			count = (size_t)get_word(h, table + (h->is64 ? 32 : 20));
		if (names_index == SHN_XINDEX)
			names_index = get32(h, table + (h->is64 ? 40 : 24));
		free(table);
		table = NULL;
		if (count == 0)
			return WD_ENOTFOUND;
	}
	if (count > GOBIN_MAX_SECTION_HEADERS)
		return wd_error_set(err, WD_ETOOBIG, "more than %d sections",
			GOBIN_MAX_SECTION_HEADERS);
	*ret_has_sections = true;
	WD_GUARD(read_table(elf, h->shoff, count, h->shentsize, &table, "section header", err));
	WD_ENSURE(names_index < count, wd_error_set(err, WD_EINVAL,
		"section name table index %zu is past %zu sections", names_index, count));

	names_header = table + names_index * h->shentsize;
	names_offset = get_word(h, names_header + (h->is64 ? 24 : 16));
	names_size = get_word(h, names_header + (h->is64 ? 32 : 20));
	if (names_size > GOBIN_MAX_SHSTRTAB_BYTES)
		names_size = GOBIN_MAX_SHSTRTAB_BYTES;
	WD_GUARD(read_table(elf, names_offset, (size_t)names_size, 1, &names, "section name", err));

	for (size_t i = 0; i < count; i++) {
		const uint8_t *p = table + i * h->shentsize;
		static const char wanted[] = ".go.buildinfo";
		uint32_t name = get32(h, p);

		if (name >= names_size || names_size - name < sizeof(wanted) ||
		    memcmp(names + name, wanted, sizeof(wanted)) != 0)
			continue;
		if (get32(h, p + 4) == SHT_NOBITS)
			break;
		ret_region->offset = get_word(h, p + (h->is64 ? 24 : 16));
		ret_region->size = get_word(h, p + (h->is64 ? 32 : 20));
		goto out;
	}
	rc = WD_ENOTFOUND;
out:
	free(names);
	free(table);
	return rc;
}

/* The first loaded segment that is readable and writable but not
 * executable, where the linker puts the blob when there is no section. */
static int find_data_segment(const struct elf_file *elf, struct region *ret_region)
{
	for (size_t i = 0; i < elf->load_count; i++) {
		const struct segment *s = &elf->loads[i];

		if ((s->flags & (PF_R | PF_W | PF_X)) == (PF_R | PF_W)) {
			ret_region->offset = s->offset;
			ret_region->size = s->filesz;
			return 0;
		}
	}
	return WD_ENOTFOUND;
}

/* Reads the region, searches it for the magic at a 16-byte boundary, and
 * decodes the blob found there. */
static int decode_region(struct elf_file *elf, struct region region, char **ret_version,
	char **ret_modinfo, struct wd_error *err)
{
	const struct gobin_memory memory = { read_addr, elf };
	uint8_t *data = NULL;
	size_t len, i;
	int rc = 0;

	if (region.offset > elf->reader->size)
		return wd_error_set(err, WD_EINVAL, "build information offset %llu is past the end",
			(unsigned long long)region.offset);
	if (region.size > elf->reader->size - region.offset)
		region.size = elf->reader->size - region.offset;
	len = region.size > GOBIN_MAX_BLOB_BYTES ? GOBIN_MAX_BLOB_BYTES : (size_t)region.size;
	WD_TRY(read_table(elf, region.offset, len, 1, &data, "build information", err));

	for (i = 0; i + GOBIN_HEADER_LEN <= len; i += 16) {
		if (memcmp(data + i, GOBIN_MAGIC, GOBIN_MAGIC_LEN) == 0)
			break;
	}
	WD_ENSURE(i + GOBIN_HEADER_LEN <= len, WD_ENOTFOUND);
	rc = gobin_blob_decode(data + i, len - i, &memory, ret_version, ret_modinfo, err);
out:
	free(data);
	return rc;
}

int gobin_read_elf(const struct gobin_reader *reader, struct gobin_info *ret_info,
	struct wd_error *err)
{
	struct elf_file elf = { .reader = reader };
	uint8_t header[ELF64_HEADER_LEN];
	size_t header_len = reader->size < sizeof(header) ? (size_t)reader->size : sizeof(header);
	struct region region = { 0 };
	char *version = NULL, *modinfo = NULL;
	bool has_sections = false;
	int rc = 0;

	*ret_info = (struct gobin_info){ 0 };
	WD_GUARD(reader->read_at(reader->ctx, 0, header, header_len));
	WD_GUARD(elf_header_parse(header, header_len, &elf.header, err));
	WD_GUARD(read_segments(&elf, err));

	rc = find_buildinfo_section(&elf, &region, &has_sections, err);
	if (rc == WD_ENOTFOUND && !has_sections)
		rc = find_data_segment(&elf, &region);
	WD_GUARD(rc);
	WD_GUARD(decode_region(&elf, region, &version, &modinfo, err));

	ret_info->go_version = WD_TAKE_PTR(version);
	ret_info->elf_arch = elf_arch_name(&elf.header);
	rc = gobin_modinfo_parse(modinfo, strlen(modinfo), ret_info, err);
	if (rc < 0)
		gobin_info_free(ret_info);
out:
	if (rc == WD_ENOTFOUND && err && err->code == 0)
		wd_error_set(err, rc, "no Go build information");
	else if (rc < 0 && err && err->code == 0)
		wd_error_set(err, rc, "reading the ELF file failed");
	free(version);
	free(modinfo);
	free(elf.loads);
	return rc;
}
