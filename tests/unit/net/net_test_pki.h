/* Test PKI built with the OpenSSL API: a CA, server and client
 * certificates, and a server running on an event loop thread. */
#pragma once

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/net.h"

struct test_cert {
	EVP_PKEY *key;
	X509 *cert;
	char *pem; /* the certificate, then its issuer unless self-signed */
};

WD_UNUSED static void test_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(cert, ext, -1))
		abort();
	X509_EXTENSION_free(ext);
}

WD_UNUSED static char *test_pem_of(X509 *cert, X509 *issuer)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	char *pem;

	PEM_write_bio_X509(bio, cert);
	if (issuer)
		PEM_write_bio_X509(bio, issuer);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

/* Issues a certificate for cn; issuer NULL makes a self-signed CA. */
WD_UNUSED static void test_cert_make(struct test_cert *out, const char *cn, const struct test_cert *issuer,
	bool is_ca, const char *san)
{
	static long serial = 1;
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	out->key = EVP_EC_gen("P-256");
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer->cert) : name);
	X509_set_pubkey(cert, out->key);
	test_add_ext(cert, issuer ? issuer->cert : cert, NID_basic_constraints,
		is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	test_add_ext(cert, issuer ? issuer->cert : cert, NID_key_usage, is_ca ?
		"critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	if (san)
		test_add_ext(cert, issuer ? issuer->cert : cert, NID_subject_alt_name, san);
	if (!X509_sign(cert, issuer ? issuer->key : out->key, EVP_sha256()))
		abort();
	X509_NAME_free(name);
	out->cert = cert;
	out->pem = test_pem_of(cert, NULL);
}

WD_UNUSED static void test_cert_free(struct test_cert *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	free(c->pem);
	memset(c, 0, sizeof(*c));
}

/* Writes text to dir/name and returns the malloc'd path. */
WD_UNUSED static char *test_write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

WD_UNUSED static char *test_key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	char *pem;

	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

/* An event loop on its own thread. */
struct test_loop {
	struct event_base *base;
	pthread_t thread;
};

static void *test_loop_run(void *arg)
{
	struct test_loop *loop = arg;

	event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void test_loop_init(struct test_loop *loop)
{
	evthread_use_pthreads();
	loop->base = event_base_new();
	if (!loop->base)
		abort();
}

static void test_loop_start(struct test_loop *loop)
{
	pthread_create(&loop->thread, NULL, test_loop_run, loop);
}

static void test_loop_stop(struct test_loop *loop)
{
	event_base_loopbreak(loop->base);
	pthread_join(loop->thread, NULL);
}
