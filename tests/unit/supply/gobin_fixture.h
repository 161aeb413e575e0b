/* Go build information fixtures shared by the unit tests: the module text
 * of a small program and an ELF64 file that carries it, built in memory so
 * the tests need no Go toolchain. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/gobin.h"

/* The sentinels cmd/go puts around the module text. */
static const char info_start[] = "0w\xaf\x0c\x92t\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char info_end[] = "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

static const char modinfo_text[] =
	"path\texample.com/hello/cmd/hello\n"
	"mod\texample.com/hello\t(devel)\t\n"
	"dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n"
	"dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n"
	"=>\tgolang.org/x/text\tv0.3.8\th1:nAL+RVCQ9uMn3vJZbV+MRnydTJFPf8qqY42YiA6MrqY=\n"
	"dep\tgithub.com/Local/Fork\tv1.0.0\t\n"
	"=>\t../fork\t\t\n"
	"build\t-compiler=gc\n"
	"build\t-ldflags=\"-s -w\"\n"
	"build\tCGO_ENABLED=0\n"
	"build\tGOARCH=arm64\n"
	"build\tGOOS=linux\n"
	"build\tvcs=git\n"
	"build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"
	"build\tvcs.time=2024-03-05T06:07:08Z\n";

/* A growable byte buffer with endian-aware writers, for building files. */
struct bytes {
	uint8_t data[8192];
	size_t len;
	bool big_endian;
};

static inline void put(struct bytes *b, size_t offset, uint64_t value, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = b->big_endian ? 8 * (size - 1 - i) : 8 * i;

		b->data[offset + i] = (uint8_t)(value >> shift);
	}
	if (offset + size > b->len)
		b->len = offset + size;
}

static inline void put_bytes(struct bytes *b, size_t offset, const void *data, size_t len)
{
	memcpy(b->data + offset, data, len);
	if (offset + len > b->len)
		b->len = offset + len;
}

static inline size_t put_varint(uint8_t *out, uint64_t value)
{
	size_t n = 0;

	while (value >= 0x80) {
		out[n++] = (uint8_t)(value | 0x80);
		value >>= 7;
	}
	out[n++] = (uint8_t)value;
	return n;
}

/* The module text as the linker stores it, between the sentinels. */
static inline size_t framed_modinfo(uint8_t *out)
{
	size_t len = strlen(modinfo_text);

	memcpy(out, info_start, 16);
	memcpy(out + 16, modinfo_text, len);
	memcpy(out + 16 + len, info_end, 16);
	return len + 32;
}

/* A Go 1.18+ blob: header with flag bit 2, then the two varint strings. */
static inline size_t inline_blob(uint8_t *out, const char *version)
{
	uint8_t framed[2048];
	size_t framed_len = framed_modinfo(framed), len = 32;

	memset(out, 0, 32);
	memcpy(out, GOBIN_MAGIC, GOBIN_MAGIC_LEN);
	out[14] = 8;
	out[15] = 2;
	len += put_varint(out + len, strlen(version));
	memcpy(out + len, version, strlen(version));
	len += strlen(version);
	len += put_varint(out + len, framed_len);
	memcpy(out + len, framed, framed_len);
	return len + framed_len;
}

/* An ELF64 little-endian executable with a .go.buildinfo section holding an
 * inline blob. Returns the offset of the section headers. */
static inline size_t build_elf64_with_section(struct bytes *b)
{
	static const char names[] = "\0.shstrtab\0.go.buildinfo\0";
	uint8_t blob[4096];
	size_t blob_len = inline_blob(blob, "go1.22.1");
	size_t blob_offset = 0x100, names_offset, shoff;

	memset(b, 0, sizeof(*b));
	put_bytes(b, 0, "\x7f" "ELF\x02\x01\x01", 7);
	put(b, 16, 2, 2);       /* ET_EXEC */
	put(b, 18, 62, 2);      /* EM_X86_64 */
	put(b, 20, 1, 4);
	put(b, 32, 64, 8);      /* e_phoff */
	put(b, 52, 64, 2);      /* e_ehsize */
	put(b, 54, 56, 2);      /* e_phentsize */
	put(b, 56, 1, 2);       /* e_phnum */
	put(b, 58, 64, 2);      /* e_shentsize */
	put(b, 60, 3, 2);       /* e_shnum */
	put(b, 62, 2, 2);       /* e_shstrndx */

	put(b, 64, 1, 4);       /* PT_LOAD */
	put(b, 68, 5, 4);       /* R+X */
	put(b, 64 + 16, 0x400000, 8);
	put(b, 64 + 32, 0x100, 8);

	put_bytes(b, blob_offset, blob, blob_len);
	names_offset = (blob_offset + blob_len + 15) & ~(size_t)15;
	put_bytes(b, names_offset, names, sizeof(names));
	shoff = (names_offset + sizeof(names) + 15) & ~(size_t)15;
	put(b, 40, shoff, 8);   /* e_shoff */

	/* Section 1: .go.buildinfo (name offset 11). */
	put(b, shoff + 64, 11, 4);
	put(b, shoff + 64 + 4, 1, 4);  /* SHT_PROGBITS */
	put(b, shoff + 64 + 24, blob_offset, 8);
	put(b, shoff + 64 + 32, blob_len, 8);
	/* Section 2: .shstrtab (name offset 1). */
	put(b, shoff + 128, 1, 4);
	put(b, shoff + 128 + 4, 3, 4);  /* SHT_STRTAB */
	put(b, shoff + 128 + 24, names_offset, 8);
	put(b, shoff + 128 + 32, sizeof(names), 8);
	b->len = shoff + 3 * 64;
	return shoff;
}

