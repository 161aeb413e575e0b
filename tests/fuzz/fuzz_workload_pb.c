/* libFuzzer harness for the Workload API request decoders: every input is
 * decoded as each request message under the size ceiling, and either fails
 * with a detail or yields a message whose checked fields hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/workload_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every rejection carries a detail, and only the documented codes occur. */
static void check_failure(int rc, const struct wd_error *err)
{
	if (rc != WD_EINVAL && rc != WD_ETOOBIG)
		abort();
	if (err->detail[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509SVIDRequest *x509 = NULL;
	X509BundlesRequest *x509_bundles = NULL;
	JWTSVIDRequest *jwt = NULL;
	JWTBundlesRequest *jwt_bundles = NULL;
	ValidateJWTSVIDRequest *validate = NULL;
	struct wd_error err;
	int rc;

	wd_error_clear(&err);
	rc = workload_pb_unpack_x509_svid_request(data, size, 0, &x509, &err);
	if (rc < 0)
		check_failure(rc, &err);
	x509_svidrequest__free_unpacked(x509, NULL);

	wd_error_clear(&err);
	rc = workload_pb_unpack_x509_bundles_request(data, size, 0, &x509_bundles, &err);
	if (rc < 0)
		check_failure(rc, &err);
	x509_bundles_request__free_unpacked(x509_bundles, NULL);

	wd_error_clear(&err);
	rc = workload_pb_unpack_jwt_svid_request(data, size, 0, &jwt, &err);
	if (rc < 0) {
		check_failure(rc, &err);
	} else {
		if (jwt->n_audience == 0 || jwt->n_audience > WORKLOAD_PB_MAX_AUDIENCES)
			abort();
		for (size_t i = 0; i < jwt->n_audience; i++) {
			if (jwt->audience[i][0] == '\0')
				abort();
		}
		if (!jwt->spiffe_id)
			abort();
	}
	jwtsvidrequest__free_unpacked(jwt, NULL);

	wd_error_clear(&err);
	rc = workload_pb_unpack_jwt_bundles_request(data, size, 0, &jwt_bundles, &err);
	if (rc < 0)
		check_failure(rc, &err);
	jwtbundles_request__free_unpacked(jwt_bundles, NULL);

	wd_error_clear(&err);
	rc = workload_pb_unpack_validate_jwt_svid_request(data, size, 0, &validate, &err);
	if (rc < 0) {
		check_failure(rc, &err);
	} else if (validate->audience[0] == '\0' || validate->svid[0] == '\0') {
		abort();
	}
	validate_jwtsvidrequest__free_unpacked(validate, NULL);
	return 0;
}
