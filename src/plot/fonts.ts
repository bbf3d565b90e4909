/** Fonts a viewer and resvg are likely to have, in order; any sans-serif will do. */
export const FONT_FAMILY = "Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif";
