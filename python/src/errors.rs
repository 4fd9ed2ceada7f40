//! The core's errors as Python exceptions, with the core's own messages.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

create_exception!(
    embedscope,
    EmbedscopeError,
    PyValueError,
    "Bad input or a failed stage: the message is the one the command line prints (file, row, \
     column, parameter and value named). A subclass of ValueError."
);

/// A core result as a Python one.
pub trait OrRaise<T> {
    /// The value, or an [`EmbedscopeError`] carrying the error's message and its causes.
    fn or_raise(self) -> Result<T, PyErr>;
}

impl<T, E: std::error::Error> OrRaise<T> for Result<T, E> {
    fn or_raise(self) -> Result<T, PyErr> {
        self.map_err(|e| raise(&e))
    }
}

/// An [`EmbedscopeError`] for `e`: its message, then each cause the message does not already
/// hold (as the command line prints an error chain).
pub fn raise(e: &dyn std::error::Error) -> PyErr {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = c.source();
    }
    EmbedscopeError::new_err(message)
}

/// An [`EmbedscopeError`] with a message of the bindings' own (a Python-side rule).
pub fn invalid(message: impl Into<String>) -> PyErr {
    EmbedscopeError::new_err(message.into())
}
