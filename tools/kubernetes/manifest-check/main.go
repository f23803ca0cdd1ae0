// Command manifest-check validates a multi-document manifest (JSON documents after "---" lines,
// as flotilla's kubernetesManifest writes them, on standard input) the way the API server of this
// module's Kubernetes version does on create: strict decoding into the v1 types (unknown fields
// are errors), defaulting, conversion to the internal types, what the Service storage does before
// validating (clusterIPs from clusterIP), then the apiserver's own validation functions. What it
// does not check: what only the allocators and admission see (a nodePort outside the cluster's
// range, a taken port, quotas). Prints one line per object and a summary; exits 1 if any is
// invalid. Used by test/lab/kubernetes-manifest.test.ts; not part of the cluster build.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	podutil "k8s.io/kubernetes/pkg/api/pod"
	"k8s.io/kubernetes/pkg/apis/apps"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	appsvalidation "k8s.io/kubernetes/pkg/apis/apps/validation"
	"k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	corevalidation "k8s.io/kubernetes/pkg/apis/core/validation"
)

func strict(doc []byte, into interface{}) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.DisallowUnknownFields()
	return d.Decode(into)
}

func internal(external runtime.Object, into interface{}) error {
	legacyscheme.Scheme.Default(external)
	return legacyscheme.Scheme.Convert(external, into, nil)
}

func main() {
	in, _ := io.ReadAll(os.Stdin)
	docs := strings.Split(string(in), "---\n")
	failed := 0
	count := 0
	for _, doc := range docs {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		count++
		var head struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := json.Unmarshal([]byte(doc), &head); err != nil {
			fmt.Println("not JSON:", err)
			failed++
			continue
		}
		var errs field.ErrorList
		var err error
		switch head.Kind {
		case "Namespace":
			var x corev1.Namespace
			var y core.Namespace
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					errs = corevalidation.ValidateNamespace(&y)
				}
			}
		case "Secret":
			var x corev1.Secret
			var y core.Secret
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					errs = corevalidation.ValidateSecret(&y)
				}
			}
		case "PersistentVolumeClaim":
			var x corev1.PersistentVolumeClaim
			var y core.PersistentVolumeClaim
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					errs = corevalidation.ValidatePersistentVolumeClaim(&y, corevalidation.ValidationOptionsForPersistentVolumeClaimCreate())
				}
			}
		case "Service":
			var x corev1.Service
			var y core.Service
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					// As the Service storage's create does (normalizeClusterIPs) before validation.
					if len(y.Spec.ClusterIPs) == 0 && y.Spec.ClusterIP != "" {
						y.Spec.ClusterIPs = []string{y.Spec.ClusterIP}
					}
					errs = corevalidation.ValidateServiceCreate(&y)
				}
			}
		case "Deployment":
			var x appsv1.Deployment
			var y apps.Deployment
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					errs = appsvalidation.ValidateDeployment(&y, podutil.GetValidationOptionsFromPodTemplate(&y.Spec.Template, nil))
				}
			}
		case "DaemonSet":
			var x appsv1.DaemonSet
			var y apps.DaemonSet
			if err = strict([]byte(doc), &x); err == nil {
				if err = internal(&x, &y); err == nil {
					errs = appsvalidation.ValidateDaemonSet(&y, podutil.GetValidationOptionsFromPodTemplate(&y.Spec.Template, nil))
				}
			}
		default:
			err = fmt.Errorf("unexpected kind %q", head.Kind)
		}
		if err != nil {
			fmt.Printf("%s/%s: %v\n", head.Kind, head.Metadata.Name, err)
			failed++
		} else if len(errs) > 0 {
			fmt.Printf("%s/%s: %v\n", head.Kind, head.Metadata.Name, errs.ToAggregate())
			failed++
		} else {
			fmt.Printf("%s/%s: valid\n", head.Kind, head.Metadata.Name)
		}
	}
	fmt.Printf("%d objects, %d invalid\n", count, failed)
	if failed > 0 || count == 0 {
		os.Exit(1)
	}
}
