"""Trains small scikit-learn models on generated data, exports them to ONNX with skl2onnx
(zipmap off) and writes, for each, MODEL.onnx and MODEL.proba.csv (predict_proba of the
rows in x.csv), for crates/ml/tests/onnx.rs. Usage: sklearn_onnx.py OUTDIR"""
import sys
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from skl2onnx import to_onnx

out = sys.argv[1]
X2, y2 = make_classification(n_samples=600, n_features=6, n_informative=4, random_state=0)
X3, y3 = make_classification(n_samples=600, n_features=6, n_informative=4, n_classes=3,
                             n_clusters_per_class=1, random_state=1)
X2 = X2.astype(np.float32)
X3 = X3.astype(np.float32)
models = {
    "rf2": (RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0), X2, y2),
    "rf3": (RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0), X3, y3),
    "tree3": (DecisionTreeClassifier(max_depth=5, random_state=0), X3, y3),
    "gb2": (GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0), X2, y2),
    "gb3": (GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0), X3, y3),
    "lr2": (LogisticRegression(max_iter=500), X2, y2),
    "lr3": (LogisticRegression(max_iter=500), X3, y3),
}
for name, (m, X, y) in models.items():
    m.fit(X[:400], y[:400])
    onx = to_onnx(m, X[:1], options={id(m): {"zipmap": False}},
                  target_opset={"": 15, "ai.onnx.ml": 3})
    with open(f"{out}/{name}.onnx", "wb") as f:
        f.write(onx.SerializeToString())
    np.savetxt(f"{out}/{name}.x.csv", X[400:], delimiter=",", fmt="%.9g")
    np.savetxt(f"{out}/{name}.proba.csv", m.predict_proba(X[400:]), delimiter=",", fmt="%.9g")
print("ok")
