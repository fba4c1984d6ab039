"""Training the reader (`factdesk train-reader`) and fitting its answerability model
(`factdesk calibrate-reader`): tooling above the serving code, which never imports it."""
