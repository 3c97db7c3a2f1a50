#pragma once
// The chart the volatile tests render: made for them, nothing else uses it.
#include "support/temp_repo.hpp"

namespace helmgate::test {

// A certificate from genCA in a Secret, a random token next to a value from the release in a ConfigMap,
// and a ConfigMap whose name ends in randAlphaNum. Namespaces are explicit, so the keys do not depend on
// how a report keys resources the chart leaves without one.
inline void write_volatile_chart(const TempRepo& t) {
  t.write("charts/vol/Chart.yaml", "apiVersion: v2\nname: vol\nversion: 0.1.0\n");
  t.write("charts/vol/values.yaml", "greeting: hello\n");
  t.write("charts/vol/templates/tls.yaml", R"({{- $ca := genCA "vol-ca" 365 }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-tls
  namespace: {{ .Release.Namespace }}
type: kubernetes.io/tls
data:
  tls.crt: {{ $ca.Cert | b64enc }}
  tls.key: {{ $ca.Key | b64enc }}
)");
  t.write("charts/vol/templates/config.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.greeting | quote }}
  token: {{ randAlphaNum 16 | quote }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-seed-{{ randAlphaNum 8 | lower }}
  namespace: {{ .Release.Namespace }}
data:
  fixed: "same every time"
)");
}

}  // namespace helmgate::test
