use pyo3::prelude::*;
use regex::Regex;

#[pyclass]
struct Scanner { re: Regex }

#[pymethods]
impl Scanner {
    #[new]
    fn new(pattern: &str) -> PyResult<Self> {
        Regex::new(pattern).map(|re| Scanner { re }).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }
    /// byte offsets of every match start
    fn starts(&self, text: &str) -> Vec<usize> { self.re.find_iter(text).map(|m| m.start()).collect() }
}

#[pymodule]
fn rprobe(_py: Python, m: &PyModule) -> PyResult<()> { m.add_class::<Scanner>()?; Ok(()) }
