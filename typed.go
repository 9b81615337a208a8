package forge

import "github.com/forgekit/forge/router"

// Typed handlers bind and validate their input and become OpenAPI
// operations with their input and output types; see router.Post.
type (
	// TypedHandler handles a request with a bound, validated input; see
	// router.TypedHandler.
	TypedHandler[In, Out any] = router.TypedHandler[In, Out]
	// Problem is the RFC 9457 body of every error response; see
	// router.Problem.
	Problem = router.Problem
	// FieldError is one invalid input value of a refused request; see
	// router.FieldError.
	FieldError = router.FieldError
)

// Get registers a typed GET handler; see router.Post.
func Get[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	router.Get(r, path, h, opts...)
}

// Post registers a typed POST handler; see router.Post.
func Post[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	router.Post(r, path, h, opts...)
}

// Put registers a typed PUT handler; see router.Post.
func Put[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	router.Put(r, path, h, opts...)
}

// Patch registers a typed PATCH handler; see router.Post.
func Patch[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	router.Patch(r, path, h, opts...)
}

// Delete registers a typed DELETE handler; see router.Post.
func Delete[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	router.Delete(r, path, h, opts...)
}
