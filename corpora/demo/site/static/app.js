/* demo: no behaviour */
