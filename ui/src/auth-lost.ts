import { createContext, useContext } from 'react';

/** Lets any view say "the server refused our credentials": the page goes back to the token prompt. */
export const AuthLost = createContext<(error: unknown) => boolean>(() => false);
export const useAuthLost = () => useContext(AuthLost);
